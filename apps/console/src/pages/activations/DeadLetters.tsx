import { useState } from 'react';
import { Alert, Button, Group, Progress, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import type { Activation } from '../../api/views.js';
import { useCan } from '../../auth/permissions.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { count, when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';

/** Members a replay still has to deliver: those the ledger still has as failed or waiting for a removal. */
const outstanding = (a: Activation) => (a.members.failed ?? 0) + (a.members.removing ?? 0);

/**
 * Batches that failed after the retry budget, with the platform's error, and their replay: the members are
 * re-checked and sent what the audience and the ledger say now; progress follows the ledger's counts.
 */
export function DeadLetters({ activation }: { activation: Activation }) {
  const canWrite = useCan('activations:write');
  const queryClient = useQueryClient();
  const [replay, setReplay] = useState<{ queued: number; before: number } | null>(null);
  const letters = usePagedList(
    ['activations', activation.id, 'dead-letters'],
    (after) =>
      unwrap(
        api.GET('/v1/activations/{id}/dead-letters', {
          params: { path: { id: activation.id }, query: { limit: 50, after } },
        }),
      ),
    { refetchInterval: () => 3000 },
  );
  const start = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/activations/{id}/replay', { params: { path: { id: activation.id } } })),
    onSuccess: async ({ queued }) => {
      setReplay({ queued, before: outstanding(activation) });
      await queryClient.invalidateQueries({ queryKey: ['activations', activation.id] });
    },
  });
  const pending = letters.rows.filter((l) => !l.replayedAt);
  let progress: { done: number; total: number } | null = null;
  if (replay && replay.queued > 0) {
    const left = Math.min(replay.queued, Math.max(0, outstanding(activation) - (replay.before - replay.queued)));
    progress = { done: replay.queued - left, total: replay.queued };
  }
  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <Text size="sm">
          {pending.length > 0
            ? `${pending.length} dead ${pending.length === 1 ? 'letter' : 'letters'} not replayed yet.`
            : 'Nothing waits for a replay.'}
        </Text>
        {canWrite && (
          <Button onClick={() => start.mutate()} loading={start.isPending} disabled={pending.length === 0}>
            Replay dead letters
          </Button>
        )}
      </Group>
      <ErrorAlert error={start.error ?? letters.error} title="The replay failed" />
      {replay && replay.queued === 0 && (
        <Alert role="status" title="Nothing to replay">
          The dead letters were replayed already.
        </Alert>
      )}
      {progress && (
        <Stack gap={4} role="status" data-testid="replay-progress">
          <Text size="sm">
            Replay: {count(progress.done)} of {count(progress.total)} members delivered
            {progress.done === progress.total ? ' — done' : '…'}
          </Text>
          <Progress
            value={(100 * progress.done) / progress.total}
            striped={progress.done < progress.total}
            animated={progress.done < progress.total}
            color={progress.done === progress.total ? 'green' : 'blue'}
            aria-label="Replay progress"
          />
        </Stack>
      )}
      <DataTable
        label="Dead letters"
        minWidth={720}
        columns={['Failed', 'Operation', 'Members', 'Attempts', 'Error', 'Replayed']}
        empty={letters.isSuccess ? 'No dead letters.' : undefined}
        rows={letters.rows.map((l) => ({
          key: String(l.id),
          cells: [
            when(l.createdAt),
            l.operation,
            count(l.profileIds.length),
            l.attempts,
            <Text size="sm" c="red.9" style={{ wordBreak: 'break-word' }}>
              {l.error}
            </Text>,
            l.replayedAt ? when(l.replayedAt) : 'not yet',
          ],
        }))}
      />
      <LoadMore {...letters} />
    </Stack>
  );
}
