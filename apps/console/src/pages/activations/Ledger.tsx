import { useState, type FormEvent } from 'react';
import { Anchor, Badge, Button, Card, Code, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import type { LedgerBatch, LedgerEntry, PendingSend } from '../../api/views.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { count, when } from '../../components/format.js';
import { IDENTIFIER_TYPES } from '../../components/identifier-types.js';

const STATE_COLOR: Record<LedgerEntry['state'], string> = {
  held: 'green',
  removing: 'orange',
  removed: 'gray',
  not_sendable: 'gray',
  invalid: 'red',
  failed: 'red',
};

/**
 * "Was this person sent, and removed?": the ledger searched by an identifier, which the API normalises as
 * ingestion does (so ` Alice@Example.com ` finds alice@example.com) and matches by a keyed fingerprint.
 */
export function Ledger({ activationId }: { activationId: string }) {
  const [type, setType] = useState('email');
  const [value, setValue] = useState('');
  const [search, setSearch] = useState<string | null>(null);
  const ledger = useQuery({
    queryKey: ['activations', activationId, 'ledger', search],
    queryFn: () =>
      unwrap(
        api.GET('/v1/activations/{id}/ledger', {
          params: { path: { id: activationId }, query: { identifier: search ?? '' } },
        }),
      ),
    enabled: search !== null,
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    setSearch(`${type}:${value}`);
  }
  return (
    <Stack>
      <form onSubmit={submit} role="search" aria-label="Search the ledger">
        <Group align="flex-end" wrap="wrap">
          <Select
            label="Identifier type"
            data={IDENTIFIER_TYPES}
            value={type}
            allowDeselect={false}
            onChange={(t) => setType(t ?? 'email')}
            w={170}
          />
          <TextInput
            label="Identifier value"
            placeholder="alice@example.com"
            required
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
            style={{ flex: 1, minWidth: 200 }}
          />
          <Button type="submit" loading={ledger.isFetching}>
            Search the ledger
          </Button>
        </Group>
      </form>
      <ErrorAlert error={ledger.error} />
      {ledger.data && (
        <Stack gap="sm" aria-live="polite" data-testid="ledger-result">
          {ledger.data.pending.map((p) => (
            <Pending key={`${p.batch.id}:${p.profileId}`} pending={p} />
          ))}
          {ledger.data.entries.length === 0
            ? ledger.data.pending.length === 0 && (
                <Text>Nobody with {ledger.data.identifier} was ever handed to this destination.</Text>
              )
            : ledger.data.entries.map((e) => <Entry key={e.profileId} entry={e} />)}
        </Stack>
      )}
    </Stack>
  );
}

function verdict(e: LedgerEntry): string {
  if (e.removed) return 'Sent, then removed';
  if (e.held) return e.state === 'removing' ? 'Sent; a removal is pending' : 'Sent: the platform holds this person';
  if (e.state === 'not_sendable') return 'Never sent: not sendable';
  if (e.state === 'invalid') return 'Refused by the platform';
  if (e.state === 'failed') return 'Not sent: the delivery failed (see the dead letters)';
  return e.sent ? 'Sent' : 'Never sent';
}

function Entry({ entry: e }: { entry: LedgerEntry }) {
  return (
    <Card withBorder padding="sm" data-testid="ledger-entry" data-state={e.state}>
      <Group justify="space-between" wrap="wrap">
        <Text fw={600}>{verdict(e)}</Text>
        <Badge variant="light" color={STATE_COLOR[e.state]}>
          {e.state}
        </Badge>
      </Group>
      <Text size="sm">
        Profile <ProfileLink id={e.profileId} />
        {e.reason ? ` · reason: ${e.reason}` : ''}
      </Text>
      <BatchLine label="Sent" at={e.addedAt} batch={e.addBatch} />
      <BatchLine label="Removed" at={e.removedAt} batch={e.removeBatch} />
      {e.item !== null && e.item !== undefined && (
        <>
          <Text size="xs" mt="xs">
            What the platform received (hashed as it requires):
          </Text>
          <Code block style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
            {JSON.stringify(e.item, null, 2)}
          </Code>
        </>
      )}
    </Card>
  );
}

function ProfileLink({ id }: { id: string }) {
  return (
    <Anchor component={Link} href={`/profiles/${id}`} ff="monospace">
      {id.slice(0, 8)}
    </Anchor>
  );
}

/** A send stored and not recorded yet: on its way, waiting for a retry, or blocked by a configuration error. */
function Pending({ pending: p }: { pending: PendingSend }) {
  const what = p.operation === 'add' ? 'An addition' : 'A removal';
  const status =
    p.batch.state === 'retrying'
      ? `waits for a retry${p.batch.nextAttemptAt ? ` at ${when(p.batch.nextAttemptAt)}` : ''}`
      : p.batch.state === 'blocked'
        ? 'is blocked until the activation is resumed'
        : 'is on its way to the platform';
  return (
    <Card withBorder padding="sm" data-testid="ledger-pending" data-state={p.batch.state}>
      <Group justify="space-between" wrap="wrap">
        <Text fw={600}>
          {what} {status}
        </Text>
        <Badge variant="light" color={p.batch.state === 'planned' ? 'blue' : 'orange'}>
          {p.operation} {p.batch.state}
        </Badge>
      </Group>
      <Text size="sm">
        Profile <ProfileLink id={p.profileId} /> · batch <Code>{p.batch.id.slice(0, 8)}</Code> stored{' '}
        {when(p.batch.createdAt)}, {count(p.batch.attempts)} attempt(s) so far{p.reason ? ` · reason: ${p.reason}` : ''}
        {p.batch.error ? ` · last error: ${p.batch.error}` : ''}
      </Text>
    </Card>
  );
}

/** When a send or removal was confirmed, by which batch, and what the platform answered for that batch. */
function BatchLine({ label, at, batch }: { label: string; at: string | null; batch: LedgerBatch | null }) {
  if (!at && !batch) return null;
  const answers = batch?.answer ?? [];
  return (
    <Text size="sm" mt={4} data-testid={`ledger-${label.toLowerCase()}`}>
      {label} {when(at)}
      {batch && (
        <>
          {' '}
          in batch <Code>{batch.id.slice(0, 8)}</Code> ({batch.state}: {count(batch.adds)} added, {count(batch.removes)}{' '}
          removed, {count(batch.accepted)} accepted, {count(batch.invalid)} invalid)
          {answers.map((a, i) => (
            <span key={i}>
              {' '}
              · platform answer to {a.operation}: {count(a.items)} sent
              {a.received !== undefined ? `, ${count(a.received)} received` : ''}
              {a.invalid !== undefined ? `, ${count(a.invalid)} invalid` : ''}
              {a.requestId ? `, request ${a.requestId}` : ''}
            </span>
          ))}
        </>
      )}
    </Text>
  );
}
