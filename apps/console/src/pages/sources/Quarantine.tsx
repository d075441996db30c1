import { Code, Text } from '@mantine/core';
import { api, unwrap } from '../../api/client.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { LoadMore } from '../../components/LoadMore.js';
import { when } from '../../components/format.js';
import { usePagedList } from '../../components/usePagedList.js';
import { DataTable } from '../../components/DataTable.js';

/** Rows the source sent that could not be used, each with its reason. */
export function Quarantine({ sourceId }: { sourceId: string }) {
  const rows = usePagedList(['sources', sourceId, 'quarantine'], (after) =>
    unwrap(api.GET('/v1/sources/{id}/quarantine', { params: { path: { id: sourceId }, query: { limit: 50, after } } })),
  );
  return (
    <>
      <ErrorAlert error={rows.error} />
      {rows.isSuccess && rows.rows.length === 0 && <Text>Nothing quarantined.</Text>}
      {rows.rows.length > 0 && (
        <DataTable
          striped
          label="Quarantined rows"
          minWidth={640}
          columns={['When', 'Stream', 'Reason', 'Record']}
          rows={rows.rows.map((r) => ({
            key: String(r.id),
            cells: [
              when(r.createdAt),
              r.stream,
              r.reason,
              <Code block style={{ maxWidth: 420, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                {JSON.stringify(r.record)}
              </Code>,
            ],
          }))}
        />
      )}
      <LoadMore {...rows} />
    </>
  );
}
