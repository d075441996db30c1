import { Code, Table, Text } from '@mantine/core';
import { api, unwrap } from '../../api/client.js';
import type { Page, Quarantined } from '../../api/views.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';

/** Rows the source sent that could not be used, each with its reason. */
export function Quarantine({ sourceId }: { sourceId: string }) {
  const rows = usePagedList(['sources', sourceId, 'quarantine'], (after) =>
    unwrap<Page<Quarantined>>(
      api.GET('/v1/sources/{id}/quarantine', { params: { path: { id: sourceId }, query: { limit: 50, after } } }),
    ),
  );
  return (
    <>
      <ErrorAlert error={rows.error} />
      {rows.isSuccess && rows.rows.length === 0 && <Text>Nothing quarantined.</Text>}
      {rows.rows.length > 0 && (
        <Table.ScrollContainer minWidth={640}>
          <Table striped aria-label="Quarantined rows">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Stream</Table.Th>
                <Table.Th>Reason</Table.Th>
                <Table.Th>Record</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.rows.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{when(r.createdAt)}</Table.Td>
                  <Table.Td>{r.stream}</Table.Td>
                  <Table.Td>{r.reason}</Table.Td>
                  <Table.Td>
                    <Code block style={{ maxWidth: 420, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                      {JSON.stringify(r.record)}
                    </Code>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <LoadMore {...rows} />
    </>
  );
}
