import { useState } from 'react';
import { Anchor, Badge, Button, Group, Select, SimpleGrid, Stack, Title } from '@mantine/core';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { count, when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { useAudienceOptions } from '../audiences/queries.js';
import { STATUS_COLOR, useAudienceNames, useDestinations } from './queries.js';

/** Activations (audience → destination), filtered on the server, and the configured destinations. */
export default function ActivationsPage() {
  const canWrite = useCan('activations:write');
  const [audienceId, setAudienceId] = useState<string | null>(null);
  const [destinationId, setDestinationId] = useState<string | null>(null);
  const audiences = useAudienceOptions();
  const audienceName = useAudienceNames();
  const destinations = useDestinations();
  const destinationName = (id: string) => destinations.data?.data.find((d) => d.id === id)?.name ?? id;
  const filters = { audienceId: audienceId ?? undefined, destinationId: destinationId ?? undefined };
  const activations = usePagedList(['activations', 'list', filters], (after) =>
    unwrap(api.GET('/v1/activations', { params: { query: { ...filters, limit: 50, after } } })),
  );
  const destinationList = usePagedList(['destinations', 'list'], (after) =>
    unwrap(api.GET('/v1/destinations', { params: { query: { limit: 50, after } } })),
  );
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Activations</Title>
        {canWrite && (
          <Button component={Link} href="/activations/new">
            New activation
          </Button>
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 2 }} role="search" aria-label="Filter activations" maw={640}>
        <Select
          label="Audience"
          placeholder="any audience"
          clearable
          searchable
          data={audiences}
          value={audienceId}
          onChange={setAudienceId}
        />
        <Select
          label="Destination"
          placeholder="any destination"
          clearable
          searchable
          data={(destinations.data?.data ?? []).map((d) => ({ value: d.id, label: `${d.name} (${d.connector})` }))}
          value={destinationId}
          onChange={setDestinationId}
        />
      </SimpleGrid>
      <ErrorAlert error={activations.error ?? destinations.error} />
      <DataTable
        label="Activations"
        minWidth={640}
        striped
        columns={['Audience', 'Destination', 'Mode', 'Status', 'Held', 'Created']}
        empty={
          activations.isSuccess
            ? audienceId || destinationId
              ? 'No activation matches.'
              : 'No activations yet.'
            : undefined
        }
        rows={activations.rows.map((a) => ({
          key: a.id,
          cells: [
            <Anchor component={Link} href={`/activations/${a.id}`}>
              {audienceName(a.audienceId)}
            </Anchor>,
            `${destinationName(a.destinationId)}${a.connector ? ` (${a.connector})` : ''}`,
            a.mode,
            <Badge variant="light" color={STATUS_COLOR[a.status]}>
              {a.status}
            </Badge>,
            count(a.members.held),
            when(a.createdAt),
          ],
        }))}
      />
      <LoadMore {...activations} />

      <Title order={2} size="h3">
        Destinations
      </Title>
      <ErrorAlert error={destinationList.error} />
      <DataTable
        label="Destinations"
        minWidth={480}
        columns={['Destination', 'Connector', 'Created']}
        empty={destinationList.isSuccess ? 'No destinations yet: create one with a new activation.' : undefined}
        rows={destinationList.rows.map((d) => ({
          key: d.id,
          cells: [d.name, d.connector, when(d.createdAt)],
        }))}
      />
      <LoadMore {...destinationList} />
    </Stack>
  );
}
