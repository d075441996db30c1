import { Anchor, Badge, Card, Code, Group, Loader, Stack, Text, Timeline, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { useSourceNames } from '../../components/useSourceNames.js';
import { MergeGraph } from './MergeGraph.js';
import { Unmerge } from './Unmerge.js';
import { ProfileAudiences } from './ProfileAudiences.js';
import { DataTable } from '../../components/DataTable.js';

export default function ProfilePage() {
  const { id } = useParams<{ id: string }>();
  const sourceName = useSourceNames();
  const canUnmerge = useCan('admin');
  const profile = useQuery({
    queryKey: ['profiles', id],
    queryFn: () => unwrap(api.GET('/v1/profiles/{id}', { params: { path: { id } } })),
  });
  const history = useQuery({
    queryKey: ['profiles', id, 'history'],
    queryFn: () => unwrap(api.GET('/v1/profiles/{id}/history', { params: { path: { id } } })),
  });
  const events = usePagedList(['profiles', id, 'events'], (after) =>
    unwrap(api.GET('/v1/profiles/{id}/events', { params: { path: { id }, query: { limit: 25, after } } })),
  );

  if (profile.error) return <ErrorAlert error={profile.error} />;
  if (!profile.data) return <Loader role="status" aria-label="Loading profile" />;
  const p = profile.data;
  const merges = (history.data?.data ?? []).filter((h) => h.kind === 'merge');
  return (
    <Stack>
      <Anchor component={Link} href="/profiles">
        ← Profiles
      </Anchor>
      <Title order={1}>
        Profile <Code fz="inherit">{p.id}</Code>
      </Title>
      {p.redirectedFrom && <Text size="sm">{p.redirectedFrom} was merged into this profile.</Text>}
      <Text size="sm">
        Created {when(p.createdAt)} · updated {when(p.updatedAt)}
      </Text>

      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Identifiers
        </Title>
        <DataTable
          label="Identifiers"
          minWidth={560}
          columns={['Type', 'Value', 'From', 'Last seen']}
          rows={p.identifiers.map((i) => ({
            key: `${i.type}:${i.value}`,
            cells: [
              i.type,
              <span style={{ wordBreak: 'break-all' }}>{i.value}</span>,
              sourceName(i.sourceId),
              when(i.lastSeen),
            ],
          }))}
        />
      </Card>

      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Traits
        </Title>
        {Object.keys(p.traits).length === 0 ? (
          <Text size="sm">No traits.</Text>
        ) : (
          <DataTable
            label="Traits"
            minWidth={480}
            columns={['Trait', 'Value', 'From', 'Observed']}
            rows={Object.entries(p.traits).map(([name, t]) => ({
              key: name,
              cells: [
                name,
                typeof t.value === 'string' ? t.value : JSON.stringify(t.value),
                sourceName(t.sourceId),
                when(t.observedAt),
              ],
            }))}
          />
        )}
      </Card>

      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Consent
        </Title>
        {Object.keys(p.consent).length === 0 ? (
          <Text size="sm">No consent recorded.</Text>
        ) : (
          <Group gap="xs">
            {Object.entries(p.consent).map(([purpose, c]) => (
              <Badge
                key={purpose}
                color={c.granted ? 'green' : 'red'}
                variant="light"
                title={`${sourceName(c.sourceId)}, ${when(c.observedAt)}`}
              >
                {purpose}: {c.granted ? 'granted' : 'denied'}
              </Badge>
            ))}
          </Group>
        )}
      </Card>

      <ProfileAudiences profileId={p.id} />

      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Merge history
        </Title>
        <ErrorAlert error={history.error} />
        {history.data && <MergeGraph profileId={p.id} history={history.data.data} />}
        {merges.length > 0 && (
          <Stack gap="xs" mt="sm">
            {merges.map((m) => (
              <Group key={m.mergeId} gap="xs" wrap="wrap" data-testid="merge">
                <Text size="sm">
                  #{m.mergeId} · {when(m.at)} · <Code>{m.loser?.slice(0, 8)}</Code> by{' '}
                  {(m.causedBy ?? []).map((c) => `${c.type}:${c.value}`).join(', ')}
                  {m.undoneAt ? ` · undone ${when(m.undoneAt)}` : ''}
                </Text>
                {canUnmerge && <Unmerge profileId={p.id} merge={m} />}
              </Group>
            ))}
          </Stack>
        )}
      </Card>

      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Events
        </Title>
        <ErrorAlert error={events.error} />
        {events.isSuccess && events.rows.length === 0 && <Text size="sm">No events.</Text>}
        <Timeline bulletSize={12} lineWidth={2}>
          {events.rows.map((e) => (
            <Timeline.Item key={e.id} title={e.name}>
              <Text size="xs">
                {when(e.occurredAt)} · {sourceName(e.sourceId)}
              </Text>
              {Object.keys(e.properties).length > 0 && (
                <Code block fz="xs" mt={4} style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                  {JSON.stringify(e.properties)}
                </Code>
              )}
            </Timeline.Item>
          ))}
        </Timeline>
        <LoadMore {...events} />
      </Card>
    </Stack>
  );
}
