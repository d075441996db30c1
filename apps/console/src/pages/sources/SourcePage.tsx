import { useState } from 'react';
import { Alert, Anchor, Badge, Button, Group, Loader, Stack, Tabs, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Quarantine } from './Quarantine.js';
import { scheduleText, useCatalog, useSource } from './queries.js';
import { RunList } from './RunList.js';
import { Upload } from './Upload.js';
import { WriteKey } from './WriteKey.js';
import { issuedWriteKeys } from './write-keys.js';

export default function SourcePage() {
  const { id } = useParams<{ id: string }>();
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  // Syncing, uploading, testing and editing a source all need sources:write.
  const canWrite = useCan('sources:write');
  const source = useSource(id);
  const catalog = useCatalog();
  const entry = catalog.data?.data.find((c) => c.id === source.data?.connector);
  const [tab, setTab] = useState<string | null>(() => (issuedWriteKeys.has(id) ? 'write-key' : 'runs'));

  const check = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/sources/{id}/check', { params: { path: { id } } })),
  });
  const sync = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/sources/{id}/sync', { params: { path: { id } } })),
    onSuccess: async () => {
      setTab('runs');
      await queryClient.invalidateQueries({ queryKey: ['sources', id, 'runs'] });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/v1/sources/{id}', { params: { path: { id } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['sources'] });
      navigate('/sources');
    },
  });

  if (source.error) return <ErrorAlert error={source.error} />;
  if (!source.data) return <Loader role="status" aria-label="Loading source" />;
  const s = source.data;
  return (
    <Stack>
      <Anchor component={Link} href="/sources">
        ← Sources
      </Anchor>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Title order={1}>{s.name}</Title>
          <Group gap="xs">
            <Badge variant="light">{entry?.displayName ?? s.connector}</Badge>
            <Text size="sm">{scheduleText(s.schedule)}</Text>
          </Group>
        </div>
        <Group gap="xs">
          {canWrite && (
            <Button onClick={() => sync.mutate()} loading={sync.isPending}>
              Sync now
            </Button>
          )}
          {canWrite && (
            <Button variant="default" onClick={() => check.mutate()} loading={check.isPending}>
              Test connection
            </Button>
          )}
          {canWrite && (
            <Button variant="default" component={Link} href={`/sources/${s.id}/edit`}>
              Edit
            </Button>
          )}
          {canWrite && (
            <Button
              variant="default"
              color="red"
              loading={remove.isPending}
              onClick={() => window.confirm(`Delete source ${s.name}?`) && remove.mutate()}
            >
              Delete
            </Button>
          )}
        </Group>
      </Group>
      {check.data &&
        (check.data.ok ? (
          <Alert color="green" title="Connection works" role="status">
            The connector reached its system with the stored configuration.
          </Alert>
        ) : (
          <Alert color="red" title={`Connection failed (${check.data.failureType})`} role="alert">
            {check.data.message}
          </Alert>
        ))}
      <ErrorAlert error={check.error ?? sync.error ?? remove.error} />
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="runs">Runs</Tabs.Tab>
          <Tabs.Tab value="quarantine">Quarantine</Tabs.Tab>
          {entry?.uploads && canWrite && <Tabs.Tab value="upload">Upload</Tabs.Tab>}
          {entry?.writeKey && <Tabs.Tab value="write-key">Write key</Tabs.Tab>}
        </Tabs.List>
        <Tabs.Panel value="runs" pt="md">
          <RunList sourceId={s.id} />
        </Tabs.Panel>
        <Tabs.Panel value="quarantine" pt="md">
          <Quarantine sourceId={s.id} />
        </Tabs.Panel>
        <Tabs.Panel value="upload" pt="md">
          <Upload sourceId={s.id} />
        </Tabs.Panel>
        <Tabs.Panel value="write-key" pt="md">
          <WriteKey sourceId={s.id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
