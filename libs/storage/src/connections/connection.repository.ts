import { Injectable } from '@nestjs/common';
import { Database } from '../database.js';
import type { ConnectionKind } from '../schema.js';

export interface ConnectionRow {
  id: string;
  kind: ConnectionKind;
  name: string;
  connector: string;
  /** Secret fields are sealed in here; the service opens them. */
  config: Record<string, unknown>;
  schedule: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
}

type Row = {
  id: string;
  kind: ConnectionKind;
  name: string;
  connector: string;
  config: Record<string, unknown>;
  schedule: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
};

const toRow = (r: Row): ConnectionRow => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  connector: r.connector,
  config: r.config,
  schedule: r.schedule,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Sources and destinations as configured by admins. */
@Injectable()
export class ConnectionRepository {
  constructor(private readonly database: Database) {}

  async insert(row: Omit<ConnectionRow, 'createdAt' | 'updatedAt'>): Promise<ConnectionRow> {
    const inserted = await this.database.db
      .insertInto('connections')
      .values({
        id: row.id,
        kind: row.kind,
        name: row.name,
        connector: row.connector,
        config: JSON.stringify(row.config),
        schedule: row.schedule === null ? null : JSON.stringify(row.schedule),
        updated_at: new Date(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRow(inserted);
  }

  async find(kind: ConnectionKind, id: string): Promise<ConnectionRow | undefined> {
    const row = await this.database.db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', id)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async list(kind: ConnectionKind, limit: number, after?: string): Promise<ConnectionRow[]> {
    let query = this.database.db
      .selectFrom('connections')
      .selectAll()
      .where('kind', '=', kind)
      .orderBy('id')
      .limit(limit);
    if (after) query = query.where('id', '>', after);
    return (await query.execute()).map(toRow);
  }

  async listAll(kind: ConnectionKind): Promise<ConnectionRow[]> {
    return (
      await this.database.db.selectFrom('connections').selectAll().where('kind', '=', kind).orderBy('id').execute()
    ).map(toRow);
  }

  async update(
    kind: ConnectionKind,
    id: string,
    changes: Partial<Pick<ConnectionRow, 'name' | 'config' | 'schedule'>>,
  ): Promise<ConnectionRow | undefined> {
    const row = await this.database.db
      .updateTable('connections')
      .set({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.config !== undefined ? { config: JSON.stringify(changes.config) } : {}),
        ...(changes.schedule !== undefined
          ? { schedule: changes.schedule === null ? null : JSON.stringify(changes.schedule) }
          : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .where('kind', '=', kind)
      .returningAll()
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async delete(kind: ConnectionKind, id: string): Promise<boolean> {
    const result = await this.database.db
      .deleteFrom('connections')
      .where('id', '=', id)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
