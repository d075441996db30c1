import { Injectable } from '@nestjs/common';
import { InvalidInputError, TooLargeError } from '@plexus/errors';
import { Environment, parseByteSize } from '@plexus/config';
import { ConnectionService } from '@plexus/connectors';
import type { SourceDefinition } from '@plexus/sdk';
import { UploadRepository } from '@plexus/storage';
import { RunService } from './run.service.js';

/** Bytes per stored chunk: large enough for few rows, small enough to keep memory flat. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

/** An upload over `UPLOAD_LIMIT`; the API answers 413 naming the limit. */
export class UploadTooLargeError extends TooLargeError {
  constructor(readonly limit: string) {
    super(`The upload is larger than UPLOAD_LIMIT (${limit}): split the file or raise UPLOAD_LIMIT`, { limit });
  }
}

/**
 * Files uploaded to a source: streamed into the database in chunks (so any worker, in any process or on any
 * machine, can read them), then a run over them is started. A refused or failed upload leaves nothing behind;
 * a stored one is deleted when its run ends.
 */
@Injectable()
export class UploadService {
  constructor(
    private readonly uploads: UploadRepository,
    private readonly runs: RunService,
    private readonly connections: ConnectionService,
    private readonly env: Environment,
  ) {}

  /** Stores `body` and starts a run of the source over it. `declaredBytes` (Content-Length) is checked first. */
  async startRun(
    sourceId: string,
    body: AsyncIterable<Buffer>,
    declaredBytes?: number,
  ): Promise<{ runId: string; bytes: number }> {
    const row = await this.connections.row('source', sourceId);
    const definition = this.connections.connector('source', row.connector).definition as SourceDefinition<unknown>;
    if (!definition.upload) throw new InvalidInputError(`Connector ${row.connector} does not accept uploads`);
    const limit = parseByteSize(this.env.UPLOAD_LIMIT);
    if (declaredBytes !== undefined && declaredBytes > limit) throw new UploadTooLargeError(this.env.UPLOAD_LIMIT);
    await this.runs.assertIdle(sourceId); // before storing what could not be run
    const uploadId = await this.uploads.create(sourceId);
    try {
      const bytes = await this.store(uploadId, body, limit);
      if (bytes === 0) throw new InvalidInputError('Empty upload: send the file as the request body');
      await this.uploads.complete(uploadId, bytes);
      const { run } = await this.runs.start(sourceId, 'upload', { upload: uploadId });
      return { runId: run.id, bytes };
    } catch (error) {
      await this.uploads.delete(uploadId);
      throw error;
    }
  }

  /** Writes the body in chunks of {@link UPLOAD_CHUNK_BYTES}; throws past `limit` bytes. */
  private async store(uploadId: string, body: AsyncIterable<Buffer>, limit: number): Promise<number> {
    let total = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const chunk = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await this.uploads.appendChunk(uploadId, seq++, chunk);
    };
    for await (const piece of body) {
      total += piece.length;
      if (total > limit) throw new UploadTooLargeError(this.env.UPLOAD_LIMIT);
      pending.push(piece);
      pendingBytes += piece.length;
      if (pendingBytes >= UPLOAD_CHUNK_BYTES) await flush();
    }
    await flush();
    return total;
  }
}
