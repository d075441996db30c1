import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';

export interface UploadRecord {
  id: string;
  sourceId: string;
  bytes: number;
  complete: boolean;
  createdAt: Date;
}

/** Chunks read per query while streaming an upload out (each chunk is at most the writer's chunk size). */
const READ_AHEAD = 4;

/**
 * Uploaded files, stored in the database in ordered `bytea` chunks so that any process or machine sharing the
 * database can read them. Written chunk by chunk as the request streams in, read back the same way: memory
 * holds a few chunks, whatever the file size. Works the same on PostgreSQL and PGlite.
 */
@Injectable()
export class UploadRepository {
  constructor(private readonly database: Database) {}

  async create(sourceId: string): Promise<string> {
    const id = `upl_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
    await this.database.db.insertInto('uploads').values({ id, source_id: sourceId }).execute();
    return id;
  }

  async appendChunk(uploadId: string, seq: number, data: Buffer): Promise<void> {
    await this.database.db.insertInto('upload_chunks').values({ upload_id: uploadId, seq, data }).execute();
  }

  async complete(uploadId: string, bytes: number): Promise<void> {
    await this.database.db.updateTable('uploads').set({ bytes, complete: true }).where('id', '=', uploadId).execute();
  }

  async find(uploadId: string): Promise<UploadRecord | undefined> {
    const row = await this.database.db.selectFrom('uploads').selectAll().where('id', '=', uploadId).executeTakeFirst();
    return row
      ? {
          id: row.id,
          sourceId: row.source_id,
          bytes: Number(row.bytes),
          complete: row.complete,
          createdAt: row.created_at,
        }
      : undefined;
  }

  /** The upload's bytes in order, a few chunks per query. */
  async *read(uploadId: string): AsyncGenerator<Buffer> {
    let next = 0;
    for (;;) {
      const rows = await this.database.db
        .selectFrom('upload_chunks')
        .select(['seq', 'data'])
        .where('upload_id', '=', uploadId)
        .where('seq', '>=', next)
        .orderBy('seq')
        .limit(READ_AHEAD)
        .execute();
      for (const row of rows) {
        const data = row.data;
        yield Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        next = row.seq + 1;
      }
      if (rows.length < READ_AHEAD) return;
    }
  }

  /** Deletes the upload and its chunks; true when it existed. */
  async delete(uploadId: string): Promise<boolean> {
    const result = await this.database.db.deleteFrom('uploads').where('id', '=', uploadId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Deletes uploads created before `olderThan` that no active run reads: abandoned while streaming in (the API
   * process died), or whose run never got created. Returns their ids.
   */
  async deleteAbandoned(olderThan: Date): Promise<string[]> {
    const rows = await this.database.db
      .deleteFrom('uploads')
      .where('created_at', '<', olderThan)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('sync_runs')
              .select(sql<number>`1`.as('one'))
              .where(sql<boolean>`sync_runs.options->>'upload' = uploads.id`)
              .where('sync_runs.status', 'in', ['queued', 'running', 'waiting']),
          ),
        ),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }
}
