import { lazy, Suspense } from 'react';
import { Anchor, Badge, Card, Loader, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import type { Connection, Run } from '../../api/views.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { count, when } from '../../components/format.js';
import { fetchRuns, fetchSources } from '../sources/queries.js';
import { useSourceNames } from '../../components/useSourceNames.js';

// The chart library is loaded only with this page's charts.
const Charts = lazy(() => import('./Charts.js'));

const DAYS = 30;
const MINUTES = 60;

export interface SourceHealth {
  source: Connection;
  runs: Run[];
}

const HEALTH: Record<string, { label: string; color: string }> = {
  succeeded: { label: 'healthy', color: 'green' },
  partial: { label: 'partial', color: 'orange' },
  failed: { label: 'failing', color: 'red' },
  cancelled: { label: 'cancelled', color: 'gray' },
  running: { label: 'running', color: 'blue' },
  queued: { label: 'queued', color: 'blue' },
};

export default function OverviewPage() {
  const health = useQuery({
    queryKey: ['overview', 'sources'],
    queryFn: async (): Promise<SourceHealth[]> => {
      const sources = await fetchSources();
      return Promise.all(
        sources.data.map(async (source) => ({ source, runs: (await fetchRuns(source.id, undefined, 50)).data })),
      );
    },
    refetchInterval: 10_000,
  });
  const queues = useQuery({
    queryKey: ['overview', 'queues'],
    queryFn: () => unwrap(api.GET('/v1/queues')),
    refetchInterval: 5_000,
  });
  const records = useQuery({
    queryKey: ['overview', 'records', DAYS],
    queryFn: () => unwrap(api.GET('/v1/stats/records', { params: { query: { days: DAYS } } })),
    refetchInterval: 30_000,
  });
  const events = useQuery({
    queryKey: ['overview', 'events', MINUTES],
    queryFn: () => unwrap(api.GET('/v1/stats/events', { params: { query: { minutes: MINUTES } } })),
    refetchInterval: 15_000,
  });
  const profiles = useQuery({
    queryKey: ['overview', 'profiles', DAYS],
    queryFn: () => unwrap(api.GET('/v1/stats/profiles', { params: { query: { days: DAYS } } })),
    refetchInterval: 30_000,
  });
  const sourceName = useSourceNames();
  return (
    <Stack>
      <Title order={1}>Overview</Title>
      <ErrorAlert error={health.error ?? queues.error ?? records.error ?? events.error ?? profiles.error} />
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Sources
        </Title>
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label="Sources and their last run">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Source</Table.Th>
                <Table.Th>Health</Table.Th>
                <Table.Th>Last run</Table.Th>
                <Table.Th>Records in (last run)</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {health.data?.map(({ source, runs }) => {
                const last = runs[0];
                const h = last ? HEALTH[last.status] : undefined;
                return (
                  <Table.Tr key={source.id}>
                    <Table.Td>
                      <Anchor component={Link} href={`/sources/${source.id}`}>
                        {source.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      {h ? (
                        <Badge variant="light" color={h.color}>
                          {h.label}
                        </Badge>
                      ) : (
                        <Badge variant="light" color="gray">
                          never run
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{when(last?.finishedAt ?? last?.startedAt)}</Table.Td>
                    <Table.Td>{last ? count(last.stats.read) : '—'}</Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {health.data?.length === 0 && (
          <Text size="sm">
            No sources yet.{' '}
            <Anchor component={Link} href="/sources">
              Add one
            </Anchor>
            .
          </Text>
        )}
      </Card>
      <Suspense fallback={<Loader role="status" aria-label="Loading charts" />}>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Charts
            records={records.data?.data ?? []}
            events={events.data?.data ?? []}
            profiles={profiles.data}
            queues={queues.data?.data ?? []}
            sourceName={sourceName}
            days={DAYS}
            minutes={MINUTES}
          />
        </SimpleGrid>
      </Suspense>
    </Stack>
  );
}
