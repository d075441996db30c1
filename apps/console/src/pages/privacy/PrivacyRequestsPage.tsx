import { useState, type FormEvent } from 'react';
import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { FINISHED_PRIVACY_REQUEST, type PrivacyRequestStatus, type PrivacyRequestType } from '../../api/views.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { IDENTIFIER_TYPES } from '../../components/identifier-types.js';
import { usePagedList } from '../../components/usePagedList.js';
import { identifierText, REQUEST_TYPES, STATUS_COLOR, stepsDone } from './requests.js';

const STATUSES: PrivacyRequestStatus[] = ['queued', 'running', 'waiting', 'completed', 'failed'];

/** Privacy requests, newest first (filtered by status on the server), and the form that files one. */
export default function PrivacyRequestsPage() {
  const [status, setStatus] = useState<PrivacyRequestStatus | null>(null);
  const requests = usePagedList(
    ['privacy', 'requests', status],
    (after) =>
      unwrap(api.GET('/v1/privacy/requests', { params: { query: { limit: 50, after, status: status ?? undefined } } })),
    { refetchInterval: (rows) => (rows.some((r) => !FINISHED_PRIVACY_REQUEST.includes(r.status)) ? 2000 : false) },
  );
  return (
    <Stack>
      <Title order={1}>Privacy requests</Title>
      <FileRequest />
      <Group align="flex-end" role="search" aria-label="Filter privacy requests">
        <Select
          label="Status"
          placeholder="any status"
          clearable
          data={STATUSES}
          value={status}
          onChange={(s) => setStatus(s)}
          w={200}
        />
      </Group>
      <ErrorAlert error={requests.error} />
      <DataTable
        label="Privacy requests"
        minWidth={640}
        striped
        columns={['Filed', 'Type', 'Identifier', 'Status', 'Steps done', 'Completed']}
        empty={requests.isSuccess ? (status ? `No ${status} requests.` : 'No privacy requests yet.') : undefined}
        rows={requests.rows.map((r) => ({
          key: r.id,
          cells: [
            <Anchor component={Link} href={`/privacy/requests/${r.id}`}>
              {when(r.createdAt)}
            </Anchor>,
            r.type,
            <span style={{ wordBreak: 'break-all' }}>{identifierText(r)}</span>,
            <Badge variant="light" color={STATUS_COLOR[r.status]}>
              {r.status}
            </Badge>,
            `${stepsDone(r)} of ${r.steps.length}`,
            when(r.completedAt),
          ],
        }))}
      />
      <LoadMore {...requests} />
    </Stack>
  );
}

/** Files a request; a delete asks for confirmation first, since erasure cannot be undone. */
function FileRequest() {
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const [type, setType] = useState<PrivacyRequestType>('delete');
  const [idType, setIdType] = useState('email');
  const [value, setValue] = useState('');
  const [country, setCountry] = useState('');
  const [confirming, setConfirming] = useState(false);
  const file = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/privacy/requests', {
          body: {
            type,
            identifier: { type: idType, value, ...(country.trim() ? { country: country.trim().toUpperCase() } : {}) },
          },
        }),
      ),
    onSuccess: async (filed) => {
      setConfirming(false);
      await queryClient.invalidateQueries({ queryKey: ['privacy', 'requests'] });
      navigate(`/privacy/requests/${filed.id}${filed.duplicate ? '?duplicate=1' : ''}`);
    },
    onError: () => setConfirming(false),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (type === 'delete') setConfirming(true);
    else file.mutate();
  }
  return (
    <Card withBorder>
      <form onSubmit={submit} aria-label="File a privacy request">
        <Title order={2} size="h4" mb="xs">
          File a request
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label="Request"
            allowDeselect={false}
            data={REQUEST_TYPES}
            value={type}
            onChange={(t) => setType(t ?? 'delete')}
          />
          <Select
            label="Identifier type"
            allowDeselect={false}
            data={IDENTIFIER_TYPES}
            value={idType}
            onChange={(t) => setIdType(t ?? 'email')}
          />
          <TextInput
            label="Identifier value"
            description="Normalised by the API as at ingestion"
            required
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
          />
          {idType === 'phone' && (
            <TextInput
              label="Country"
              description="For a number written without its country code"
              placeholder="US"
              maxLength={2}
              value={country}
              onChange={(e) => setCountry(e.currentTarget.value)}
            />
          )}
        </SimpleGrid>
        <Stack mt="sm">
          <ErrorAlert error={file.error} title="The request was not filed" />
          <Group>
            <Button type="submit" loading={file.isPending && !confirming}>
              File request
            </Button>
          </Group>
        </Stack>
      </form>
      <Modal
        opened={confirming}
        onClose={() => setConfirming(false)}
        closeButtonProps={{ 'aria-label': 'Close' }}
        title="Erase this person?"
      >
        <Stack>
          <Text>
            Everything held about the person with {idType} <strong>{value.trim()}</strong> is erased — profile, events,
            source records, audience memberships — they are removed from every destination, and their identifiers are
            suppressed so they are not collected again. This cannot be undone.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button color="red" loading={file.isPending} onClick={() => file.mutate()}>
              Erase the person
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}
