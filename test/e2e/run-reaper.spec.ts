import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueService } from '@plexus/queue';
import { RunRepository } from '@plexus/storage';
import { RunReaper } from '@plexus/sync';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitForRun } from '../support/hub.js';
import { call } from '../support/http.js';
import { until } from '../support/wait.js';

const ROWS = 50;

/**
 * Runs whose job is gone — never added (the process died between the run row and `queues.add`), or lost by
 * Redis — would block their source forever. The reaper (a job scheduler on the maintenance queue) must find
 * them by their stale heartbeat, requeue them under the run's id, and fail them once they were lost too often.
 */
describe('the run reaper', () => {
  let t: TestApp;
  let runs: RunRepository;
  let queues: QueueService;
  let sourceId: string;

  /** Waits until the reaper has counted one recovery of the run and its new job is in the queue. */
  const requeued = (runId: string): Promise<boolean> =>
    until(async () => {
      const recoveries = (await runs.find(runId))!.recoveries;
      expect(recoveries).toBeLessThanOrEqual(1);
      return recoveries === 1 && (await queues.jobState('sync', runId)) === 'waiting';
    }, 20_000);

  beforeAll(async () => {
    t = await startTestApp({
      label: 'reaper',
      env: { RUN_STALE_MS: '1000', RUN_REAPER_INTERVAL_MS: '250', RUN_MAX_RECOVERIES: '1' },
    });
    // Inside the hub's import folder: paths elsewhere are refused (IMPORT_DIRS).
    const file = join(t.importDir, 'people.csv');
    writeFileSync(
      file,
      ['id,email', ...Array.from({ length: ROWS }, (_, i) => `${i},reaped${i}@plexus-test.io`)].join('\n') + '\n',
    );
    runs = t.app.get(RunRepository);
    queues = t.app.get(QueueService);
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'reaped',
        connector: 'file-import',
        config: { path: file, format: 'csv', mapping: { identifiers: { email: 'email', external_id: 'id' } } },
      },
    });
    expect(created.status).toBe(201);
    sourceId = created.body.id as string;
  }, 120_000);
  afterAll(async () => {
    await queues?.queue('sync').resume();
    await t?.close();
  });

  it('requeues a run that never got its job, which then completes', async () => {
    const { run, created } = await runs.createRun(sourceId, 'manual'); // the row, and no job: as after a crash
    expect(created).toBe(true);
    expect(await queues.jobState('sync', run.id)).toBeUndefined();
    const done = await waitForRun(t, run.id, 20_000);
    expect(done.status).toBe('succeeded');
    expect(done.stats).toMatchObject({ read: ROWS, written: ROWS });
    expect((await runs.find(run.id))!.recoveries).toBe(1);
    expect(t.logs.some((l) => l.includes(`run ${run.id} (queued`) && l.includes('has no job: requeued'))).toBe(true);
  }, 30_000);

  it('leaves a queued run with a live job alone, and recovers it when Redis loses the job', async () => {
    await queues.queue('sync').pause(); // no worker takes the job: it stays waiting
    const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    expect(started.status).toBe(202);
    const runId = started.body.runId as string;
    expect(await queues.jobState('sync', runId)).toBe('waiting');
    await new Promise((r) => setTimeout(r, 2_000)); // stale by now, but its job is alive
    expect((await runs.find(runId))!).toMatchObject({ status: 'queued', recoveries: 0 });

    await (await queues.queue('sync').getJob(runId))!.remove(); // Redis lost it
    await requeued(runId); // a new job, same id
    await queues.queue('sync').resume();
    expect((await waitForRun(t, runId, 20_000)).status).toBe('succeeded');
  }, 40_000);

  it('fails a run that lost its job more than RUN_MAX_RECOVERIES times, with the reason, freeing the source', async () => {
    await queues.queue('sync').pause();
    const { run } = await runs.createRun(sourceId, 'manual');
    await requeued(run.id);
    await (await queues.queue('sync').getJob(run.id))!.remove(); // lost again
    const failed = await waitForRun(t, run.id, 10_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({
      type: 'system',
      message: 'its job was lost 2 times; gave up after 1 recoveries',
    });
    await queues.queue('sync').resume();
    const next = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    expect(next.status).toBe(202);
    expect((await waitForRun(t, next.body.runId as string)).status).toBe('succeeded');
  }, 40_000);

  it('requeues a lost run once when several reapers look at it at the same time', async () => {
    await queues.queue('sync').pause();
    const { run } = await runs.createRun(sourceId, 'manual');
    await new Promise((r) => setTimeout(r, 1_200)); // stale for every reaper from now on
    const reaper = t.app.get(RunReaper);
    const reports = await Promise.all([reaper.reap(), reaper.reap(), reaper.reap()]);
    await requeued(run.id);
    expect(reports.filter((r) => r.requeued.includes(run.id)).length).toBeLessThanOrEqual(1);
    expect((await runs.find(run.id))!.recoveries).toBe(1);
    await queues.queue('sync').resume();
    expect((await waitForRun(t, run.id, 20_000)).status).toBe('succeeded');
  }, 40_000);
});
