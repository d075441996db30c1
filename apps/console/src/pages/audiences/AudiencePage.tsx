import { lazy, Suspense, useState } from 'react';
import { Anchor, Badge, Button, Card, Code, Group, Loader, Stack, Tabs, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { count, when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { useAudience } from './queries.js';
import { Reason } from './Reason.js';

const SizeChart = lazy(() => import('./SizeChart.js'));

export default function AudiencePage() {
  const { id } = useParams<{ id: string }>();
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const canWrite = useCan('audiences:write');
  const audience = useAudience(id);
  const [tab, setTab] = useState<string | null>('members');

  const evaluate = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/audiences/{id}/evaluate', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['audiences', id] }),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/v1/audiences/{id}', { params: { path: { id } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['audiences'] });
      navigate('/audiences');
    },
  });

  if (audience.error) return <ErrorAlert error={audience.error} />;
  if (!audience.data) return <Loader role="status" aria-label="Loading audience" />;
  const a = audience.data;
  return (
    <Stack>
      <Anchor component={Link} href="/audiences">
        ← Audiences
      </Anchor>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Title order={1}>{a.name}</Title>
          {a.description && <Text size="sm">{a.description}</Text>}
          <Group gap="xs" mt={4}>
            <Badge variant="light" size="lg" data-testid="audience-size">
              {count(a.size)} {a.size === 1 ? 'member' : 'members'}
            </Badge>
            <Text size="sm">evaluated {when(a.lastEvaluatedAt)}</Text>
          </Group>
        </div>
        {canWrite && (
          <Group gap="xs">
            <Button component={Link} href={`/audiences/${a.id}/edit`} variant="default">
              Edit
            </Button>
            <Button variant="default" onClick={() => evaluate.mutate()} loading={evaluate.isPending}>
              Evaluate now
            </Button>
            <Button
              variant="default"
              color="red"
              loading={remove.isPending}
              onClick={() => window.confirm(`Delete audience ${a.name}?`) && remove.mutate()}
            >
              Delete
            </Button>
          </Group>
        )}
      </Group>
      {evaluate.data && (
        <Text role="status" size="sm">
          Evaluated: {evaluate.data.entered} entered, {evaluate.data.exited} exited, {evaluate.data.size} members.
        </Text>
      )}
      <ErrorAlert error={evaluate.error ?? remove.error} />
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="members">Members</Tabs.Tab>
          <Tabs.Tab value="changes">Changes</Tabs.Tab>
          <Tabs.Tab value="sizes">Size over time</Tabs.Tab>
          <Tabs.Tab value="rule">Rule</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="members" pt="sm">
          <Members id={a.id} />
        </Tabs.Panel>
        <Tabs.Panel value="changes" pt="sm">
          <Changes id={a.id} />
        </Tabs.Panel>
        <Tabs.Panel value="sizes" pt="sm">
          <Sizes id={a.id} />
        </Tabs.Panel>
        <Tabs.Panel value="rule" pt="sm">
          <Card withBorder>
            <Code block>{JSON.stringify(a.rule, null, 2)}</Code>
          </Card>
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

const profileLink = (profileId: string) => (
  <Anchor component={Link} href={`/profiles/${profileId}`} ff="monospace">
    {profileId.slice(0, 8)}
  </Anchor>
);

function Members({ id }: { id: string }) {
  const members = usePagedList(['audiences', id, 'members'], (after) =>
    unwrap(api.GET('/v1/audiences/{id}/members', { params: { path: { id }, query: { limit: 50, after } } })),
  );
  return (
    <>
      <ErrorAlert error={members.error} />
      <DataTable
        label="Members"
        minWidth={560}
        columns={['Profile', 'Entered', 'Why']}
        empty={members.isSuccess ? 'No members.' : undefined}
        rows={members.rows.map((m) => ({
          key: m.profileId,
          cells: [profileLink(m.profileId), when(m.enteredAt), <Reason reason={m.reason} />],
        }))}
      />
      <LoadMore {...members} />
    </>
  );
}

/** The change log, oldest first, read by cursor as activation reads it. */
function Changes({ id }: { id: string }) {
  const changes = useInfiniteQuery({
    queryKey: ['audiences', id, 'changes'],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/audiences/{id}/changes', { params: { path: { id }, query: { after: pageParam, limit: 100 } } }),
      ),
    initialPageParam: 0,
    // A short page is the end of the log for now.
    getNextPageParam: (last) => (last.data.length === 100 ? last.next : undefined),
  });
  const rows = changes.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <ErrorAlert error={changes.error} />
      <DataTable
        label="Changes"
        minWidth={640}
        columns={['#', 'When', 'Profile', 'Change', 'Why']}
        empty={changes.isSuccess ? 'No changes yet.' : undefined}
        rows={rows.map((c) => ({
          key: String(c.cursor),
          cells: [
            c.cursor,
            when(c.createdAt),
            profileLink(c.profileId),
            <Badge variant="light" color={c.change === 'entered' ? 'green' : 'red'}>
              {c.change}
            </Badge>,
            <Reason reason={c.reason} />,
          ],
        }))}
      />
      <LoadMore
        hasNextPage={changes.hasNextPage}
        isFetchingNextPage={changes.isFetchingNextPage}
        fetchNextPage={changes.fetchNextPage}
      />
    </>
  );
}

function Sizes({ id }: { id: string }) {
  const sizes = useQuery({
    queryKey: ['audiences', id, 'sizes'],
    queryFn: () => unwrap(api.GET('/v1/audiences/{id}/sizes', { params: { path: { id }, query: {} } })),
  });
  return (
    <Card withBorder>
      <ErrorAlert error={sizes.error} />
      {sizes.data && (
        <Suspense fallback={<Loader role="status" aria-label="Loading chart" />}>
          <SizeChart points={sizes.data.data} />
        </Suspense>
      )}
      {sizes.data && (
        <DataTable
          label="Evaluations"
          minWidth={480}
          columns={['When', 'Evaluation', 'Size', 'Entered', 'Exited']}
          rows={[...sizes.data.data].reverse().map((p, i) => ({
            key: `${p.at}-${i}`,
            cells: [when(p.at), p.kind, count(p.size), count(p.entered), count(p.exited)],
          }))}
        />
      )}
    </Card>
  );
}
