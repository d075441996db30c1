import { lazy, Suspense } from 'react';
import { Badge, Card, Loader, Stack, Text } from '@mantine/core';
import { api, unwrap } from '../../api/client.js';
import type { ActivationRun } from '../../api/views.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { count, when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';

const RunsChart = lazy(() => import('./RunsChart.js'));

const RUN_COLOR: Record<ActivationRun['status'], string> = {
  running: 'blue',
  succeeded: 'green',
  partial: 'orange',
  failed: 'red',
};

/** The delivery runs, newest first, polled every second while one runs; their outcomes as a chart. */
export function Runs({ activationId }: { activationId: string }) {
  const runs = usePagedList(
    ['activations', activationId, 'runs'],
    (after) =>
      unwrap(api.GET('/v1/activations/{id}/runs', { params: { path: { id: activationId }, query: { after } } })),
    { refetchInterval: (rows) => (rows.some((r) => r.status === 'running') ? 1000 : 3000) },
  );
  const reasons = (r: ActivationRun) =>
    Object.entries(r.notSendableReasons)
      .map(([reason, n]) => `${n} ${reason}`)
      .join('; ');
  return (
    <Stack>
      <ErrorAlert error={runs.error} />
      {runs.rows.length > 0 && (
        <Card withBorder>
          <Suspense fallback={<Loader role="status" aria-label="Loading chart" />}>
            <RunsChart runs={runs.rows} />
          </Suspense>
        </Card>
      )}
      <DataTable
        label="Runs"
        minWidth={820}
        columns={['Started', 'Trigger', 'Status', 'Changes', 'Sent', 'Accepted', 'Invalid', 'Failed', 'Not sendable']}
        empty={runs.isSuccess ? 'No runs yet.' : undefined}
        rows={runs.rows.map((r) => ({
          key: String(r.id),
          cells: [
            when(r.startedAt),
            r.trigger,
            <Stack gap={2} data-testid="activation-run" data-status={r.status}>
              <Badge variant="light" color={RUN_COLOR[r.status]}>
                {r.status}
              </Badge>
              {r.error && (
                <Text size="xs" c="red.9">
                  {r.error}
                </Text>
              )}
            </Stack>,
            count(r.changes),
            `${count(r.adds)} added, ${count(r.removes)} removed`,
            count(r.accepted),
            count(r.invalid),
            count(r.failed),
            r.notSendable > 0 ? `${count(r.notSendable)} (${reasons(r)})` : '0',
          ],
        }))}
      />
      <LoadMore {...runs} />
    </Stack>
  );
}
