import { useEffect, useState } from 'react';
import { Alert, Anchor, Button, Card, Code, Group, JsonInput, List, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';

/** Edit the identity rules; saving is offered once a dry run of exactly this text has been seen. */
export default function IdentityRulesPage() {
  const canWrite = useCan('admin');
  const queryClient = useQueryClient();
  const rules = useQuery({
    queryKey: ['identity', 'rules'],
    queryFn: () => unwrap(api.GET('/v1/identity/rules')),
  });
  const [text, setText] = useState('');
  const [dryRunOf, setDryRunOf] = useState<string | null>(null);
  useEffect(() => {
    if (rules.data) setText(JSON.stringify(rules.data.rules, null, 2));
  }, [rules.data]);

  const parsed = (): Record<string, unknown> => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`The rules are not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  };
  const dryRun = useMutation({
    mutationFn: async () => {
      const body = parsed();
      const report = await unwrap(api.POST('/v1/identity/rules/dry-run', { body }));
      setDryRunOf(text);
      return report;
    },
  });
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/v1/identity/rules', { body: parsed() })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['identity', 'rules'] }),
  });
  const flags = usePagedList(['identity', 'flags'], (after) =>
    unwrap(api.GET('/v1/identity/flags', { params: { query: { limit: 50, after } } })),
  );
  const report = dryRunOf === text ? dryRun.data : undefined;

  return (
    <Stack>
      <Title order={1}>Identity rules</Title>
      <ErrorAlert error={rules.error} />
      {rules.data && (
        <Text size="sm">
          {rules.data.isDefault
            ? 'The default rules are in force.'
            : `Version ${rules.data.version}, saved ${when(rules.data.updatedAt)}.`}{' '}
          Rules apply to records ingested from now on.
        </Text>
      )}
      <JsonInput
        label="Rules (JSON)"
        autosize
        minRows={12}
        maxRows={30}
        formatOnBlur
        validationError="Invalid JSON"
        value={text}
        onChange={setText}
        readOnly={!canWrite}
      />
      <Group>
        {canWrite && (
          <>
            {/* Not before the stored rules are in the editor: a dry run of the empty text would fail, and one of
                text the loaded rules then replace would show no result. */}
            <Button onClick={() => dryRun.mutate()} loading={dryRun.isPending} disabled={!rules.data}>
              Dry run
            </Button>
            <Button variant="default" disabled={!report} onClick={() => save.mutate()} loading={save.isPending}>
              Save rules
            </Button>
            {!report && <Text size="sm">Run a dry run of these rules to save them.</Text>}
          </>
        )}
        {!canWrite && <Text size="sm">Changing the identity rules needs an admin key.</Text>}
      </Group>
      <ErrorAlert error={dryRun.error ?? save.error} />
      {save.isSuccess && (
        <Alert color="green" role="status">
          Saved as version {save.data.version}.
        </Alert>
      )}
      {report && (
        <Card withBorder aria-label="Dry run result">
          <Title order={2} size="h4">
            Dry run over {report.observations.toLocaleString()} stored records
          </Title>
          <Text>
            {report.splitCount} profile(s) would split, {report.mergeCount} group(s) of profiles would merge.
          </Text>
          {report.wouldSplit.length > 0 && (
            <>
              <Text fw={600} mt="sm">
                Would split
              </Text>
              <List size="sm">
                {report.wouldSplit.slice(0, 50).map((s) => (
                  <List.Item key={s.profileId}>
                    <Anchor component={Link} href={`/profiles/${s.profileId}`} ff="monospace">
                      {s.profileId}
                    </Anchor>{' '}
                    into {s.into}
                  </List.Item>
                ))}
              </List>
            </>
          )}
          {report.wouldMerge.length > 0 && (
            <>
              <Text fw={600} mt="sm">
                Would merge
              </Text>
              <List size="sm">
                {report.wouldMerge.slice(0, 50).map((m) => (
                  <List.Item key={m.profileIds.join()}>
                    {m.profileIds.map((id) => (
                      <Anchor key={id} component={Link} href={`/profiles/${id}`} ff="monospace" mr="xs">
                        {id.slice(0, 8)}
                      </Anchor>
                    ))}
                  </List.Item>
                ))}
              </List>
            </>
          )}
        </Card>
      )}

      <Title order={2} size="h3">
        Flagged super-nodes
      </Title>
      <Text size="sm">
        Identifiers shared by too many people (shared devices, DMP cookies) that the guard kept from merging.
      </Text>
      <ErrorAlert error={flags.error} />
      <Table.ScrollContainer minWidth={560}>
        <Table striped aria-label="Flagged identifiers">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Identifier</Table.Th>
              <Table.Th>People</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>First seen</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {flags.rows.map((f) => (
              <Table.Tr key={`${f.type}:${f.value}`}>
                <Table.Td>
                  <Code>
                    {f.type}:{f.value}
                  </Code>
                </Table.Td>
                <Table.Td>{f.people.length}</Table.Td>
                <Table.Td>{f.reason ?? '—'}</Table.Td>
                <Table.Td>{when(f.firstSeenAt)}</Table.Td>
              </Table.Tr>
            ))}
            {flags.isSuccess && flags.rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={4}>Nothing flagged.</Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore {...flags} />
    </Stack>
  );
}
