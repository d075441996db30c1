import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

export interface DataRow {
  key: string;
  /** One cell per column, in order. */
  cells: ReactNode[];
}

export interface DataTableProps {
  /** The table's accessible name. */
  label?: string;
  columns: string[];
  rows: DataRow[];
  /** Below this width the table scrolls sideways instead of squeezing its columns. */
  minWidth: number;
  striped?: boolean;
  /** Shown as one full-width row when there are no rows. */
  empty?: ReactNode;
}

/** The scrollable table with a header row that the console's pages share. */
export function DataTable({ label, columns, rows, minWidth, striped = false, empty }: DataTableProps) {
  return (
    // The scrolling viewport takes the keyboard focus, so a table without links can still be scrolled sideways
    // with the arrow keys on a narrow screen.
    <Table.ScrollContainer
      minWidth={minWidth}
      scrollAreaProps={{ viewportProps: { tabIndex: 0, 'aria-label': label ? `${label} (scrollable)` : undefined } }}
    >
      <Table striped={striped} aria-label={label}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((column) => (
              <Table.Th key={column}>{column}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.key}>
              {row.cells.map((cell, i) => (
                <Table.Td key={i}>{cell}</Table.Td>
              ))}
            </Table.Tr>
          ))}
          {empty !== undefined && rows.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={columns.length}>{empty}</Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
