import { useState, type FormEvent } from 'react';
import { Anchor, Button, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { IDENTIFIER_TYPES } from '../../components/identifier-types.js';

/** Find a profile by any identifier (the API normalises it as ingestion does), or browse profiles. */
export default function ProfilesPage() {
  const [type, setType] = useState('email');
  const [value, setValue] = useState('');
  const [country, setCountry] = useState('');
  const [search, setSearch] = useState<string | null>(null);

  const found = useQuery({
    queryKey: ['profiles', 'search', search, country],
    queryFn: () =>
      unwrap(
        api.GET('/v1/profiles', {
          params: { query: { identifier: search ?? '', ...(country ? { country: country.toUpperCase() } : {}) } },
        }),
      ),
    enabled: search !== null,
  });
  const all = usePagedList(['profiles', 'list'], (after) =>
    unwrap(api.GET('/v1/profiles', { params: { query: { limit: 50, after } } })),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    setSearch(value ? `${type}:${value}` : null);
  }

  return (
    <Stack>
      <Title order={1}>Profiles</Title>
      <form onSubmit={submit} role="search" aria-label="Find a profile">
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
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
            style={{ flex: 1, minWidth: 200 }}
          />
          {type === 'phone' && (
            <TextInput
              label="Country"
              placeholder="US"
              maxLength={2}
              value={country}
              onChange={(e) => setCountry(e.currentTarget.value)}
              w={90}
            />
          )}
          <Button type="submit">Find</Button>
        </Group>
      </form>
      <ErrorAlert error={found.error} />
      {found.data && (
        <Stack gap="xs" aria-live="polite">
          {found.data.data.length === 0 ? (
            <Text>No profile holds {search}.</Text>
          ) : (
            found.data.data.map((p) => (
              <Text key={p.id}>
                Found:{' '}
                <Anchor component={Link} href={`/profiles/${p.id}`}>
                  profile {p.id}
                </Anchor>{' '}
                {'identifiers' in p && `with ${p.identifiers.length} identifiers`}
              </Text>
            ))
          )}
        </Stack>
      )}
      <Title order={2} size="h3">
        Recently created
      </Title>
      <ErrorAlert error={all.error} />
      <Table.ScrollContainer minWidth={480}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Profile</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Updated</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {all.rows.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td>
                  <Anchor component={Link} href={`/profiles/${p.id}`} ff="monospace">
                    {p.id}
                  </Anchor>
                </Table.Td>
                <Table.Td>{when(p.createdAt)}</Table.Td>
                <Table.Td>{when(p.updatedAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore {...all} />
    </Stack>
  );
}
