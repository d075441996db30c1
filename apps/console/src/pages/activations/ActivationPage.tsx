import { useState } from 'react';
import { Alert, Anchor, Badge, Button, Group, Loader, SimpleGrid, Stack, Tabs, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { count, when } from '../../components/format.js';
import { scheduleText } from '../sources/queries.js';
import { DeadLetters } from './DeadLetters.js';
import { Ledger } from './Ledger.js';
import { STATUS_COLOR, useActivation, useAudienceNames, useDestinations } from './queries.js';
import { Runs } from './Runs.js';

const MEMBER_STATES = ['held', 'removing', 'removed', 'not_sendable', 'invalid', 'failed'] as const;

/** One activation: its state and what the platform holds, sync / pause / resume / delete, runs, ledger, dead letters. */
export default function ActivationPage() {
  const { id } = useParams<{ id: string }>();
  const queryClient = useQueryClient();
  const canWrite = useCan('activations:write');
  const activation = useActivation(id);
  const audienceName = useAudienceNames();
  const destinations = useDestinations();
  const [tab, setTab] = useState<string | null>('runs');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['activations', id] });

  // The API has no separate "sync": un-pausing queues a delivery at once and makes waiting retries due now.
  const patch = useMutation({
    mutationFn: (paused: boolean) =>
      unwrap(api.PATCH('/v1/activations/{id}', { params: { path: { id } }, body: { paused } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/v1/activations/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });

  if (activation.error) return <ErrorAlert error={activation.error} />;
  if (!activation.data) return <Loader role="status" aria-label="Loading activation" />;
  const a = activation.data;
  const destination = destinations.data?.data.find((d) => d.id === a.destinationId);
  const live = a.status !== 'deleting' && a.status !== 'deleted';
  const title = `${audienceName(a.audienceId)} → ${destination?.name ?? a.destinationId}`;
  return (
    <Stack>
      <Anchor component={Link} href="/activations">
        ← Activations
      </Anchor>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Title order={1}>{title}</Title>
          <Group gap="xs" mt={4}>
            <Badge variant="light" color={STATUS_COLOR[a.status]} data-testid="activation-status">
              {a.status}
            </Badge>
            <Text size="sm">
              {a.connector ?? 'destination removed'} · {a.mode} · {a.schedule ? scheduleText(a.schedule) : 'real time'}
              {a.externalId ? ` · platform audience ${a.externalId}` : ''}
            </Text>
          </Group>
        </div>
        {canWrite && live && (
          <Group gap="xs">
            {a.status === 'active' ? (
              <>
                <Button onClick={() => patch.mutate(false)} loading={patch.isPending && patch.variables === false}>
                  Sync now
                </Button>
                <Button
                  variant="default"
                  onClick={() => patch.mutate(true)}
                  loading={patch.isPending && patch.variables === true}
                >
                  Pause
                </Button>
              </>
            ) : (
              <Button onClick={() => patch.mutate(false)} loading={patch.isPending}>
                Resume
              </Button>
            )}
            <Button
              variant="default"
              color="red"
              loading={remove.isPending}
              onClick={() =>
                window.confirm(`Delete this activation? Every member the platform holds is removed first.`) &&
                remove.mutate()
              }
            >
              Delete
            </Button>
          </Group>
        )}
      </Group>
      {a.error && (
        <Alert color="red" title={`Stopped: ${a.error.type} error`} role="alert">
          {a.error.message} ({when(a.error.at)}). Fix the destination, then resume.
        </Alert>
      )}
      {a.mirrorInProgress && (
        <Alert role="status" title="Replacing the platform's list">
          The mirror is sending the whole audience; changes follow once it is done.
        </Alert>
      )}
      <ErrorAlert error={patch.error ?? remove.error} />
      <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }} aria-label="Ledger by state" data-testid="member-counts">
        {MEMBER_STATES.map((state) => (
          <div key={state}>
            <Text size="xs">{state.replace('_', ' ')}</Text>
            <Text fw={700} data-testid={`members-${state}`}>
              {count(a.members[state])}
            </Text>
          </div>
        ))}
      </SimpleGrid>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="runs">Runs</Tabs.Tab>
          <Tabs.Tab value="ledger">Ledger</Tabs.Tab>
          <Tabs.Tab value="dead-letters">Dead letters{a.members.failed ? ` (${a.members.failed})` : ''}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="runs" pt="md">
          <Runs activationId={a.id} />
        </Tabs.Panel>
        <Tabs.Panel value="ledger" pt="md">
          <Ledger activationId={a.id} />
        </Tabs.Panel>
        <Tabs.Panel value="dead-letters" pt="md">
          <DeadLetters activation={a} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
