import { Alert, Anchor, Badge, Button, Code, Group, Loader, Progress, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearch } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { FINISHED_PRIVACY_REQUEST } from '../../api/views.js';
import { useCan } from '../../auth/permissions.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { when } from '../../components/format.js';
import { identifierText, STATUS_COLOR, STEP_COLOR, stepsDone } from './requests.js';

/** One request with each step's state, polled every second until it completes; an export's download. */
export default function PrivacyRequestPage() {
  const { id } = useParams<{ id: string }>();
  const duplicate = new URLSearchParams(useSearch()).has('duplicate');
  const canDownload = useCan('pii:read');
  const request = useQuery({
    queryKey: ['privacy', 'requests', id],
    queryFn: () => unwrap(api.GET('/v1/privacy/requests/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (q.state.data?.status === 'completed' ? false : 1000),
  });
  const download = useMutation({
    mutationFn: async () => {
      const document = await unwrap(api.GET('/v1/privacy/requests/{id}/export', { params: { path: { id } } }));
      const link = window.document.createElement('a');
      link.href = URL.createObjectURL(new Blob([JSON.stringify(document, null, 2)], { type: 'application/json' }));
      link.download = 'plexus-export.json';
      link.click();
      URL.revokeObjectURL(link.href);
    },
  });

  if (request.error) return <ErrorAlert error={request.error} />;
  if (!request.data) return <Loader role="status" aria-label="Loading request" />;
  const r = request.data;
  const done = stepsDone(r);
  const finished = FINISHED_PRIVACY_REQUEST.includes(r.status);
  return (
    <Stack>
      <Anchor component={Link} href="/privacy">
        ← Privacy requests
      </Anchor>
      <div>
        <Title order={1}>
          {r.type[0]?.toUpperCase()}
          {r.type.slice(1)} request
        </Title>
        <Group gap="xs" mt={4}>
          <Badge variant="light" color={STATUS_COLOR[r.status]} data-testid="request-status">
            {r.status}
          </Badge>
          <Text size="sm" style={{ wordBreak: 'break-all' }}>
            {identifierText(r)} · filed {when(r.createdAt)}
            {r.completedAt ? ` · completed ${when(r.completedAt)}` : ''}
          </Text>
        </Group>
      </div>
      {duplicate && (
        <Alert role="status" title="Already running">
          The same request for this person was still running: this is that request.
        </Alert>
      )}
      <Stack gap={4}>
        <Text size="sm">
          {done} of {r.steps.length} steps done{r.status === 'completed' ? '' : '…'}
        </Text>
        <Progress
          value={(100 * done) / Math.max(r.steps.length, 1)}
          striped={!finished}
          animated={!finished}
          color={r.status === 'completed' ? 'green' : r.status === 'failed' ? 'red' : 'blue'}
          aria-label="Request progress"
        />
      </Stack>
      {r.waitingOn && (
        <Alert color="violet" title={`Waiting on step ${r.waitingOn.step}`} role="status">
          {r.waitingOn.detail ?? ''}
          {r.waitingOn.on.length > 0 && ` ${r.waitingOn.on.join('; ')}`}
          {r.nextAttemptAt ? ` — next attempt ${when(r.nextAttemptAt)}` : ''}
        </Alert>
      )}
      {r.note && (
        <Text size="sm" data-testid="request-note">
          Note: {r.note}
        </Text>
      )}
      <DataTable
        label="Steps"
        minWidth={560}
        columns={['Step', 'Status', 'What it did', 'Attempts', 'Updated']}
        rows={r.steps.map((s) => ({
          key: s.name,
          cells: [
            s.name,
            <Badge variant="light" color={STEP_COLOR[s.status]} data-testid={`step-${s.name}`}>
              {s.status}
            </Badge>,
            <span style={{ wordBreak: 'break-word' }}>
              {s.detail ?? ''}
              {s.waitingOn?.length ? ` (${s.waitingOn.join('; ')})` : ''}
            </span>,
            s.attempts,
            when(s.updatedAt),
          ],
        }))}
      />
      {r.type === 'export' && r.status === 'completed' && (
        <Group>
          {canDownload ? (
            <Button onClick={() => download.mutate()} loading={download.isPending}>
              Download export
            </Button>
          ) : (
            <Text size="sm">Downloading the export needs a key with pii:read.</Text>
          )}
        </Group>
      )}
      <ErrorAlert error={download.error} title="The export could not be downloaded" />
      {r.result !== null && r.result !== undefined && (
        <Stack gap={4}>
          <Text fw={600}>Result</Text>
          <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
            {JSON.stringify(r.result, null, 2)}
          </Code>
        </Stack>
      )}
    </Stack>
  );
}
