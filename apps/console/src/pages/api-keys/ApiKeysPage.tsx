import { useState, type FormEvent } from 'react';
import { Alert, Badge, Button, Code, Group, MultiSelect, Stack, Table, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.js';
import { SCOPE_MEANING, SCOPES, type Scope } from '../../api/views.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';

export default function ApiKeysPage() {
  // Any key may create keys no broader than itself; listing and revoking keys needs admin.
  const canRevoke = useCan('admin');
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const keys = usePagedList(['api-keys'], (after) =>
    unwrap(api.GET('/v1/api-keys', { params: { query: { limit: 50, after } } })),
  );
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/api-keys', { body: { name, ...(scopes.length > 0 && { scopes }) } })),
    onSuccess: async () => {
      setName('');
      setScopes([]);
      await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/v1/api-keys/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['api-keys'] }),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <Stack>
      <Title order={1}>API keys</Title>
      <form onSubmit={submit}>
        <Group align="flex-end" wrap="wrap">
          <TextInput label="New key name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <MultiSelect
            label="Scopes"
            placeholder={scopes.length === 0 ? 'the same as this key' : undefined}
            data={SCOPES.map((scope) => ({ value: scope, label: `${scope} (${SCOPE_MEANING[scope]})` }))}
            value={scopes}
            onChange={(v) => setScopes(v)}
            miw={260}
          />
          <Button type="submit" loading={create.isPending}>
            Create key
          </Button>
        </Group>
      </form>
      {create.data && (
        <Alert color="yellow" title={`Key "${create.data.name}" created: copy it now, it is not shown again`}>
          <Code data-testid="new-api-key">{create.data.key}</Code>
        </Alert>
      )}
      <ErrorAlert error={create.error ?? revoke.error ?? keys.error} />
      <Table.ScrollContainer minWidth={560}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Prefix</Table.Th>
              <Table.Th>Scopes</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Last used</Table.Th>
              <Table.Th>State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {keys.rows.map((k) => (
              <Table.Tr key={k.id}>
                <Table.Td>{k.name}</Table.Td>
                <Table.Td>
                  <Code>{k.prefix}…</Code>
                </Table.Td>
                <Table.Td>{k.scopes.join(', ')}</Table.Td>
                <Table.Td>{when(k.createdAt)}</Table.Td>
                <Table.Td>{when(k.lastUsedAt)}</Table.Td>
                <Table.Td>
                  {k.revokedAt ? (
                    <Badge variant="light" color="gray">
                      revoked
                    </Badge>
                  ) : canRevoke ? (
                    <Button
                      size="xs"
                      variant="default"
                      color="red"
                      onClick={() => window.confirm(`Revoke key ${k.name}?`) && revoke.mutate(k.id)}
                    >
                      Revoke
                    </Button>
                  ) : (
                    <Badge variant="light" color="green">
                      active
                    </Badge>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore {...keys} />
    </Stack>
  );
}
