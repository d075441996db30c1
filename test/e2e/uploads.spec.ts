import { QueueService } from '@plexus/queue';
import { RunRepository, UploadRepository } from '@plexus/storage';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitForRun } from '../support/hub.js';
import { call } from '../support/http.js';

const LIMIT = '6mb';
const MiB = 1024 * 1024;

/** NDJSON rows of about 2 KiB each, `bytes` long in all. */
function ndjson(bytes: number, tag: string): { body: Buffer; rows: number } {
  const pad = 'x'.repeat(2000);
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `${JSON.stringify({ id: `${tag}${i}`, email: `${tag}${i}@plexus-test.io`, note: pad })}\n`;
    lines.push(line);
    size += line.length;
  }
  return { body: Buffer.from(lines.join('')), rows: lines.length };
}

/** A body sent without Content-Length (chunked), so only counting what arrives can enforce the limit. */
function chunked(body: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= body.length) return controller.close();
      controller.enqueue(body.subarray(offset, offset + 64 * 1024));
      offset += 64 * 1024;
    },
  });
}

/**
 * Uploads on the embedded database (PGlite): stored in chunks in the database rather than on the API's disk,
 * read back across several chunk queries, deleted when the run ends, refused over UPLOAD_LIMIT with nothing left.
 */
describe('uploads', () => {
  let t: TestApp;
  let sourceId: string;
  let runs: RunRepository;
  let uploads: UploadRepository;
  let queues: QueueService;

  const upload = (body: Buffer | string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/v1/sources/${sourceId}/upload`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/x-ndjson', ...headers },
      body,
      duplex: 'half',
    });
  /** Uploads stored that no active run reads (deleteAbandoned with a cut-off in the future deletes and lists them). */
  const leftovers = () => uploads.deleteAbandoned(new Date(Date.now() + 60_000));

  beforeAll(async () => {
    t = await startTestApp({ label: 'uploads', storage: 'pglite', env: { UPLOAD_LIMIT: LIMIT } });
    runs = t.app.get(RunRepository);
    uploads = t.app.get(UploadRepository);
    queues = t.app.get(QueueService);
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'uploads',
        connector: 'file-import',
        config: {
          url: 'https://files.example.com/none.ndjson',
          format: 'ndjson',
          mapping: { identifiers: { email: 'email', external_id: 'id' } },
        },
      },
    });
    expect(created.status).toBe(201);
    sourceId = created.body.id as string;
  }, 180_000); // the embedded database boots slowly on a busy machine
  afterAll(async () => {
    await queues?.queue('sync').resume();
    await t?.close();
  });

  it('imports a multi-chunk upload read back from the database, then deletes it', async () => {
    const { body, rows } = ndjson(5 * MiB, 'big');
    const res = await upload(body);
    expect(res.status).toBe(202);
    const { runId, bytes } = (await res.json()) as { runId: string; bytes: number };
    expect(bytes).toBe(body.length);
    const uploadId = (await runs.find(runId))!.options.upload as string;
    expect(uploadId).toMatch(/^upl_/);
    const run = await waitForRun(t, runId, 120_000);
    expect(run).toMatchObject({ status: 'succeeded', stats: { read: rows, written: rows, quarantined: 0 } });
    expect(await uploads.find(uploadId)).toBeUndefined();
    expect(await leftovers()).toEqual([]);
  }, 150_000);

  it('refuses an upload over UPLOAD_LIMIT with 413 naming the limit, declared or streamed, and keeps nothing', async () => {
    const { body } = ndjson(7 * MiB, 'huge');
    for (const sent of [body, chunked(body)]) {
      const res = await upload(sent);
      expect(res.status).toBe(413);
      const answer = (await res.json()) as { message: string; details: unknown };
      expect(answer.message).toMatch(/larger than UPLOAD_LIMIT \(6mb\)/);
      expect(answer.details).toEqual({ limit: LIMIT });
    }
    expect(await leftovers()).toEqual([]);
    const empty = await upload('');
    expect(empty.status).toBe(400);
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  it('keeps the upload while its run waits, answers 409 to a second one, and deletes it on cancel', async () => {
    await queues.queue('sync').pause();
    const first = await upload(ndjson(10_000, 'queued').body);
    expect(first.status).toBe(202);
    const { runId } = (await first.json()) as { runId: string };
    const uploadId = (await runs.find(runId))!.options.upload as string;
    expect(await leftovers()).toEqual([]); // read by an active run: not abandoned
    expect((await uploads.find(uploadId))!.complete).toBe(true);

    const second = await upload(ndjson(10_000, 'second').body);
    expect(second.status).toBe(409);
    expect(((await second.json()) as { details: unknown }).details).toEqual({ runId, status: 'queued' });
    expect(await leftovers()).toEqual([]);

    const cancelled = await call(t.url, 'POST', `/v1/runs/${runId}/cancel`, { headers: t.auth });
    expect(cancelled.body.status).toBe('cancelled');
    expect(await uploads.find(uploadId)).toBeUndefined();
    await queues.queue('sync').resume();
  }, 60_000);
});
