import { useState } from 'react';
import { Badge, Button, Card, Group, Loader, NumberInput, SimpleGrid, Stack, Switch, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import type { RetentionPolicy, RetentionRun } from '../../api/views.js';
import { useCan } from '../../auth/permissions.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { count, when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { ScheduleInput } from '../sources/ScheduleInput.js';

const RUN_COLOR: Record<RetentionRun['status'], string> = {
  queued: 'gray',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
};

/** The retention policy (edited with the privacy scope), identifier time-to-live, and the sweeps. */
export default function RetentionPage() {
  const retention = useQuery({
    queryKey: ['retention'],
    queryFn: () => unwrap(api.GET('/v1/retention')),
  });
  if (retention.error) return <ErrorAlert error={retention.error} />;
  if (!retention.data) return <Loader role="status" aria-label="Loading retention" />;
  return (
    <Stack>
      <Title order={1}>Retention</Title>
      <PolicyForm policy={retention.data.policy} />
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Identifier time to live
        </Title>
        <Text size="sm" mb="xs">
          Identifiers unseen for longer are detached from their profile. Set in the identity rules.
        </Text>
        <DataTable
          label="Identifier time to live"
          minWidth={280}
          columns={['Identifier type', 'Days']}
          empty="No identifier type expires."
          rows={Object.entries(retention.data.identifierTtlDays).map(([type, days]) => ({
            key: type,
            cells: [type, count(days)],
          }))}
        />
      </Card>
      <Sweeps />
    </Stack>
  );
}

/** Days or none (kept forever), as the API takes them. */
function DaysInput({
  label,
  value,
  onChange,
  nullable,
  disabled,
}: {
  label: string;
  value: number | null;
  onChange: (v: number | null) => void;
  nullable: boolean;
  disabled: boolean;
}) {
  return (
    <NumberInput
      label={label}
      description={nullable ? 'Empty keeps them' : undefined}
      placeholder={nullable ? 'keep' : undefined}
      min={1}
      max={36_500}
      allowDecimal={false}
      clampBehavior="none"
      disabled={disabled}
      value={value ?? ''}
      onChange={(v) => onChange(v === '' ? null : Number(v))}
    />
  );
}

function PolicyForm({ policy }: { policy: RetentionPolicy }) {
  const canEdit = useCan('privacy');
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<RetentionPolicy>(policy);
  const set =
    <K extends keyof RetentionPolicy>(key: K) =>
    (value: RetentionPolicy[K]) =>
      setDraft((d) => ({ ...d, [key]: value }));
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/v1/retention', { body: draft })),
    onSuccess: (saved) => queryClient.setQueryData(['retention'], saved),
  });
  return (
    <Card withBorder>
      <form
        aria-label="Retention policy"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Title order={2} size="h4" mb="xs">
          Policy
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          <DaysInput
            label="Delete events after (days)"
            value={draft.eventsDays}
            onChange={set('eventsDays')}
            nullable
            disabled={!canEdit}
          />
          <DaysInput
            label="Delete quarantined records after (days)"
            value={draft.quarantineDays}
            onChange={set('quarantineDays')}
            nullable
            disabled={!canEdit}
          />
          <DaysInput
            label="Delete export documents after (days)"
            value={draft.exportsDays}
            onChange={(v) => set('exportsDays')(v ?? 0)}
            nullable={false}
            disabled={!canEdit}
          />
          <NumberInput
            label="Rows per sweep statement"
            min={10}
            max={50_000}
            allowDecimal={false}
            clampBehavior="none"
            disabled={!canEdit}
            value={draft.batchSize}
            onChange={(v) => set('batchSize')(Number(v))}
          />
        </SimpleGrid>
        <Switch
          mt="md"
          label="Erase profiles left without any identifier"
          checked={draft.deleteEmptyProfiles}
          disabled={!canEdit}
          onChange={(e) => set('deleteEmptyProfiles')(e.currentTarget.checked)}
        />
        <Stack mt="md">
          <ScheduleInput value={draft.schedule} onChange={(s) => s && set('schedule')(s)} noneLabel={null} />
          <ErrorAlert error={save.error} title="The policy was not saved" />
          {save.isSuccess && (
            <Text role="status" size="sm">
              Policy saved.
            </Text>
          )}
          {canEdit && (
            <Group>
              <Button type="submit" loading={save.isPending}>
                Save policy
              </Button>
            </Group>
          )}
        </Stack>
      </form>
    </Card>
  );
}

function Sweeps() {
  const canRun = useCan('privacy');
  const queryClient = useQueryClient();
  const runs = usePagedList(
    ['retention', 'runs'],
    (after) => unwrap(api.GET('/v1/retention/runs', { params: { query: { limit: 20, after } } })),
    { refetchInterval: (rows) => (rows.some((r) => r.status === 'queued' || r.status === 'running') ? 1000 : false) },
  );
  const start = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/retention/runs')),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['retention', 'runs'] }),
  });
  const removed = (r: RetentionRun) =>
    Object.entries(r.removed)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${count(n)} ${kind}`)
      .join(', ') || 'nothing';
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Sweeps
        </Title>
        {canRun && (
          <Button variant="default" onClick={() => start.mutate()} loading={start.isPending}>
            Sweep now
          </Button>
        )}
      </Group>
      <ErrorAlert error={start.error ?? runs.error} />
      <DataTable
        label="Sweeps"
        minWidth={560}
        columns={['Started', 'Trigger', 'Status', 'Removed', 'Finished']}
        empty={runs.isSuccess ? 'No sweeps yet.' : undefined}
        rows={runs.rows.map((r) => ({
          key: String(r.id),
          cells: [
            when(r.startedAt),
            r.trigger,
            <Badge variant="light" color={RUN_COLOR[r.status]}>
              {r.status}
            </Badge>,
            r.error ? `${removed(r)} — ${r.error}` : removed(r),
            when(r.finishedAt),
          ],
        }))}
      />
      <LoadMore {...runs} />
    </Card>
  );
}
