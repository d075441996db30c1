import { Badge, Button, Card, Group, Progress, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import { FINISHED_RUN, type Run } from '../../api/views.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { count, when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { fetchRuns } from './queries.js';

const STATUS_COLOR: Record<Run['status'], string> = {
  queued: 'gray',
  running: 'blue',
  waiting: 'violet',
  succeeded: 'green',
  partial: 'orange',
  failed: 'red',
  cancelled: 'gray',
};

/** The source's runs, newest first, polled every second while one is active. */
export function RunList({ sourceId }: { sourceId: string }) {
  const runs = usePagedList(['sources', sourceId, 'runs'], (after) => fetchRuns(sourceId, after), {
    refetchInterval: (rows) => (rows.some((r) => !FINISHED_RUN.includes(r.status)) ? 1000 : 10_000),
  });
  return (
    <Stack>
      <ErrorAlert error={runs.error} />
      {runs.isSuccess && runs.rows.length === 0 && <Text>No runs yet.</Text>}
      {runs.rows.map((run, i) => (
        <RunCard key={run.id} run={run} live={i === 0 || !FINISHED_RUN.includes(run.status)} />
      ))}
      <LoadMore {...runs} />
    </Stack>
  );
}

/** A run; `live` ones are read from `GET /v1/runs/:id` (which has per-stream progress) every second until they end. */
export function RunCard({ run: listed, live }: { run: Run; live: boolean }) {
  const detail = useQuery({
    queryKey: ['runs', listed.id],
    queryFn: () => unwrap(api.GET('/v1/runs/{id}', { params: { path: { id: listed.id } } })),
    enabled: live,
    refetchInterval: (q) => (q.state.data && FINISHED_RUN.includes(q.state.data.status) ? false : 1000),
  });
  const run = detail.data ?? listed;
  const finished = FINISHED_RUN.includes(run.status);
  const canCancel = useCan('sources:write');
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/runs/{id}/cancel', { params: { path: { id: run.id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['sources', run.sourceId, 'runs'] }),
  });
  const streams = run.streams ?? [];
  return (
    <Card withBorder padding="sm" data-testid="run" data-status={run.status} aria-label={`Run ${run.id}`}>
      <Group justify="space-between" wrap="wrap">
        <Group gap="xs">
          <Badge variant="light" color={STATUS_COLOR[run.status]}>
            {run.status}
          </Badge>
          <Text size="sm">
            {run.trigger} · started {when(run.startedAt ?? run.createdAt)}
            {run.finishedAt ? ` · finished ${when(run.finishedAt)}` : ''}
          </Text>
        </Group>
        {!finished && canCancel && (
          <Button size="xs" variant="default" loading={cancel.isPending} onClick={() => cancel.mutate()}>
            Cancel run
          </Button>
        )}
      </Group>
      <Text size="sm" mt="xs">
        read {count(run.stats.read)} · written {count(run.stats.written)} · quarantined {count(run.stats.quarantined)} ·
        deleted {count(run.stats.deleted)}
        {run.stats.unchanged ? ` · unchanged ${count(run.stats.unchanged)}` : ''}
      </Text>
      {run.error && (
        <Text size="sm" c="red.9" mt="xs">
          {run.error.type}: {run.error.message}
        </Text>
      )}
      {streams.map((s) => {
        // Streams report no total ahead of time: the bar moves while reading and fills when the stream ends.
        const done = s.finished || finished;
        return (
          <Stack key={s.stream} gap={2} mt="xs">
            <Text size="xs">
              {s.stream}: {count(s.read)} read, {count(s.written)} written, {count(s.quarantined)} quarantined
              {done ? ' — done' : ''}
            </Text>
            <Progress
              value={done ? 100 : 60}
              striped={!done}
              animated={!done}
              color={done ? 'green' : 'blue'}
              aria-label={`Progress of stream ${s.stream}`}
            />
          </Stack>
        );
      })}
      <ErrorAlert error={cancel.error} />
    </Card>
  );
}
