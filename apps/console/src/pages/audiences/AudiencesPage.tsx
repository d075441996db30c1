import { useState } from 'react';
import { Anchor, Button, Card, Group, MultiSelect, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import { useCan } from '../../auth/permissions.js';
import { DataTable } from '../../components/DataTable.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { count, when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { useAudienceOptions } from './queries.js';

export default function AudiencesPage() {
  const canWrite = useCan('audiences:write');
  const audiences = usePagedList(['audiences', 'list'], (after) =>
    unwrap(api.GET('/v1/audiences', { params: { query: { limit: 50, after } } })),
  );
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Audiences</Title>
        {canWrite && (
          <Button component={Link} href="/audiences/new">
            New audience
          </Button>
        )}
      </Group>
      <ErrorAlert error={audiences.error} />
      <DataTable
        label="Audiences"
        minWidth={560}
        striped
        columns={['Audience', 'Members', 'Last evaluated', 'Description']}
        empty={audiences.isSuccess ? 'No audiences yet.' : undefined}
        rows={audiences.rows.map((a) => ({
          key: a.id,
          cells: [
            <Anchor component={Link} href={`/audiences/${a.id}`}>
              {a.name}
            </Anchor>,
            count(a.size),
            when(a.lastEvaluatedAt),
            a.description ?? '',
          ],
        }))}
      />
      <LoadMore {...audiences} />
      <Overlap />
    </Stack>
  );
}

/** Members in common for each pair of the chosen audiences; the diagonal is each audience's size. */
function Overlap() {
  const options = useAudienceOptions();
  const [ids, setIds] = useState<string[]>([]);
  const overlap = useQuery({
    queryKey: ['audiences', 'overlap', ids],
    queryFn: () => unwrap(api.GET('/v1/audiences/overlap', { params: { query: { ids: ids.join(',') } } })),
    enabled: ids.length >= 2,
  });
  const data = overlap.data;
  const common = (a: string, b: string) =>
    a === b
      ? (data?.audiences.find((x) => x.id === a)?.size ?? 0)
      : (data?.pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a))?.count ?? 0);
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Overlap
      </Title>
      <MultiSelect
        label="Audiences to compare"
        description="Two to twenty"
        data={options}
        value={ids}
        onChange={setIds}
        maxValues={20}
        searchable
        maw={640}
      />
      <ErrorAlert error={overlap.error} />
      {data && (
        <Table.ScrollContainer minWidth={200 + 120 * data.audiences.length} mt="sm">
          <Table aria-label="Members in common" withColumnBorders>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Audience</Table.Th>
                {data.audiences.map((a) => (
                  <Table.Th key={a.id}>{a.name}</Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.audiences.map((row) => (
                <Table.Tr key={row.id}>
                  <Table.Th scope="row">{row.name}</Table.Th>
                  {data.audiences.map((col) => {
                    const n = common(row.id, col.id);
                    return (
                      <Table.Td key={col.id}>
                        {count(n)}
                        {row.id !== col.id && row.size > 0 && (
                          <Text span size="xs">
                            {' '}
                            ({Math.round((100 * n) / row.size)}% of {row.name})
                          </Text>
                        )}
                      </Table.Td>
                    );
                  })}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}
