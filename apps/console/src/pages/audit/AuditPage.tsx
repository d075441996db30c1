import { useState, type FormEvent } from 'react';
import {
  Autocomplete,
  Button,
  Code,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import type { paths } from '../../api/schema.js';
import type { Answer } from '../../api/views.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';

type Entry = Answer<'/v1/audit', 'get'>['data'][number];

/** The list's filters, as the API's query declares them (paging aside). */
type Filters = Omit<NonNullable<paths['/v1/audit']['get']['parameters']['query']>, 'limit' | 'after'>;

/** The kinds of resource admin changes touch (the first path segment after /v1). */
const TARGET_TYPES = [
  'sources',
  'destinations',
  'runs',
  'audiences',
  'computed-traits',
  'identity',
  'profiles',
  'api-keys',
  'queues',
];

/** A `datetime-local` value (the browser's time) as an ISO instant, or nothing. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The audit log, newest first, filtered on the server: who changed what, when, and the state before and after. */
export default function AuditPage() {
  const [draft, setDraft] = useState({
    actorKeyId: '',
    action: '',
    targetType: '',
    targetId: '',
    since: '',
    until: '',
  });
  const [filters, setFilters] = useState<Filters>({});
  const [open, setOpen] = useState<Entry | null>(null);
  const keys = useQuery({
    queryKey: ['api-keys', 'names'],
    queryFn: () => unwrap(api.GET('/v1/api-keys', { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
  const keyName = (id: string | null) =>
    id ? (keys.data?.data.find((k) => k.id === id)?.name ?? id.slice(0, 8)) : 'hub (no key)';
  const entries = usePagedList(['audit', filters], (after) =>
    unwrap(api.GET('/v1/audit', { params: { query: { ...filters, limit: 50, after } } })),
  );

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters({
      actorKeyId: draft.actorKeyId || undefined,
      action: draft.action.trim() || undefined,
      targetType: draft.targetType.trim() || undefined,
      targetId: draft.targetId.trim() || undefined,
      since: instant(draft.since),
      until: instant(draft.until),
    });
  }
  const set = (field: keyof typeof draft) => (value: string) => setDraft((d) => ({ ...d, [field]: value }));

  return (
    <Stack>
      <Title order={1}>Audit log</Title>
      <form onSubmit={apply} role="search" aria-label="Filter the audit log">
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          <Select
            label="Key"
            placeholder="any key"
            clearable
            data={(keys.data?.data ?? []).map((k) => ({ value: k.id, label: `${k.name} (${k.prefix}…)` }))}
            value={draft.actorKeyId || null}
            onChange={(v) => set('actorKeyId')(v ?? '')}
          />
          <Autocomplete
            label="Target type"
            placeholder="any"
            data={TARGET_TYPES}
            value={draft.targetType}
            onChange={set('targetType')}
          />
          <TextInput
            label="Target id"
            placeholder="any"
            value={draft.targetId}
            onChange={(e) => set('targetId')(e.currentTarget.value)}
          />
          <TextInput
            label="Action"
            placeholder="PATCH /v1/sources/:id"
            value={draft.action}
            onChange={(e) => set('action')(e.currentTarget.value)}
          />
          <TextInput
            label="Since"
            type="datetime-local"
            value={draft.since}
            onChange={(e) => set('since')(e.currentTarget.value)}
          />
          <TextInput
            label="Until"
            type="datetime-local"
            value={draft.until}
            onChange={(e) => set('until')(e.currentTarget.value)}
          />
        </SimpleGrid>
        <Group mt="sm">
          <Button type="submit">Filter</Button>
          <Button
            variant="default"
            onClick={() => {
              setDraft({ actorKeyId: '', action: '', targetType: '', targetId: '', since: '', until: '' });
              setFilters({});
            }}
          >
            Clear
          </Button>
        </Group>
      </form>
      <ErrorAlert error={entries.error ?? keys.error} />
      <DataTable
        label="Audit log"
        minWidth={720}
        striped
        columns={['When', 'Key', 'Action', 'Target', 'Changes']}
        empty={entries.isSuccess ? 'No entries match.' : undefined}
        rows={entries.rows.map((e) => ({
          key: String(e.id),
          cells: [
            when(e.at),
            keyName(e.actorKeyId),
            <Code>{e.action}</Code>,
            <span style={{ wordBreak: 'break-all' }}>
              {e.targetType}
              {e.targetId ? ` ${e.targetId}` : ''}
            </span>,
            <Button size="compact-xs" variant="default" onClick={() => setOpen(e)}>
              Show {changedFields(e).length} changes
            </Button>,
          ],
        }))}
      />
      <LoadMore {...entries} />
      <Modal
        opened={open !== null}
        onClose={() => setOpen(null)}
        closeButtonProps={{ 'aria-label': 'Close' }}
        title={open ? `${open.action} · ${when(open.at)}` : ''}
        size="xl"
      >
        {open && <EntryDetails entry={open} keyName={keyName} />}
      </Modal>
    </Stack>
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Top-level fields whose value differs between before and after (all of them for a creation or deletion). */
export function changedFields(entry: Pick<Entry, 'before' | 'after'>): string[] {
  const before = isRecord(entry.before) ? entry.before : {};
  const after = isRecord(entry.after) ? entry.after : {};
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...fields].filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f])).sort();
}

function EntryDetails({ entry, keyName }: { entry: Entry; keyName: (id: string | null) => string }) {
  const before = isRecord(entry.before) ? entry.before : {};
  const after = isRecord(entry.after) ? entry.after : {};
  const show = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));
  return (
    <Stack>
      <Text size="sm">
        By {keyName(entry.actorKeyId)} · target {entry.targetType} {entry.targetId ?? ''} · request{' '}
        <Code>{entry.requestId ?? '—'}</Code>
      </Text>
      <Table aria-label="Changed fields" withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Field</Table.Th>
            <Table.Th>Before</Table.Th>
            <Table.Th>After</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {changedFields(entry).map((f) => (
            <Table.Tr key={f}>
              <Table.Td>{f}</Table.Td>
              <Table.Td style={{ wordBreak: 'break-all' }}>{show(before[f])}</Table.Td>
              <Table.Td style={{ wordBreak: 'break-all' }}>{show(after[f])}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <div>
          <Text fw={600}>Before</Text>
          <Code block>{JSON.stringify(entry.before, null, 2) ?? 'nothing'}</Code>
        </div>
        <div>
          <Text fw={600}>After</Text>
          <Code block>{JSON.stringify(entry.after, null, 2) ?? 'nothing'}</Code>
        </div>
      </SimpleGrid>
    </Stack>
  );
}
