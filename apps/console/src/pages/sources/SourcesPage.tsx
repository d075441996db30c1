import { Anchor, Badge, Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { Link } from 'wouter';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { fetchSources, scheduleText, useCatalog } from './queries.js';
import { DataTable } from '../../components/DataTable.js';

export default function SourcesPage() {
  const canWrite = useCan('sources:write');
  const catalog = useCatalog();
  const sources = usePagedList(['sources', 'list'], fetchSources);
  const sourceConnectors = catalog.data?.data.filter((c) => c.kind === 'source') ?? [];
  return (
    <Stack>
      <Title order={1}>Sources</Title>
      <ErrorAlert error={sources.error} />
      <DataTable
        striped
        minWidth={560}
        columns={['Name', 'Connector', 'Schedule', 'Created']}
        rows={sources.rows.map((s) => ({
          key: s.id,
          cells: [
            <Anchor component={Link} href={`/sources/${s.id}`}>
              {s.name}
            </Anchor>,
            s.connector,
            scheduleText(s.schedule),
            when(s.createdAt),
          ],
        }))}
        empty={sources.isSuccess ? 'No sources yet: add one from the catalog below.' : undefined}
      />
      <LoadMore {...sources} />

      <Title order={2} size="h3">
        Connector catalog
      </Title>
      <ErrorAlert error={catalog.error} />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {sourceConnectors.map((c) => (
          <Card key={c.id} withBorder padding="md">
            <Group justify="space-between" mb="xs">
              <Text fw={600}>{c.displayName}</Text>
              <Badge variant="light">{c.version}</Badge>
            </Group>
            <Text size="sm" mb="sm">
              {c.description ?? c.id}
            </Text>
            <Group gap="xs" mb="sm">
              {c.uploads && (
                <Badge variant="light" color="gray">
                  uploads
                </Badge>
              )}
              {c.webhook && (
                <Badge variant="light" color="gray">
                  webhooks
                </Badge>
              )}
              {c.writeKey && (
                <Badge variant="light" color="gray">
                  write key
                </Badge>
              )}
            </Group>
            {canWrite && (
              <Button
                component={Link}
                href={`/sources/new/${c.id}`}
                variant="light"
                aria-label={`Add ${c.displayName} source`}
              >
                Add source
              </Button>
            )}
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}
