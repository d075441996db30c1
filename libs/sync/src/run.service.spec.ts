import type { ConnectionService } from '@plexus/connectors';
import type { QueueService } from '@plexus/queue';
import type { RunRecord, RunRepository } from '@plexus/storage';
import { RunService } from './run.service.js';

const run: RunRecord = {
  id: 'run_1',
  sourceId: 'src_1',
  status: 'queued',
  trigger: 'manual',
  options: {},
  createdAt: new Date(),
  startedAt: null,
  finishedAt: null,
  stats: { read: 0, written: 0, quarantined: 0, deleted: 0, suppressed: 0, unchanged: 0 },
  checkpoint: null,
  cancelRequested: false,
  attempts: 0,
  resumeAt: null,
  recoveries: 0,
  heartbeatAt: null,
};

/** Strict fakes: only the methods the case needs exist, so any other call fails the test. */
function service(queues: Partial<QueueService>, finished: unknown[][]): RunService {
  const runs = {
    createRun: () => Promise.resolve({ run, created: true }),
    finish: (...args: unknown[]) => {
      finished.push(args);
      return Promise.resolve({ ...run, status: 'failed' });
    },
    requestCancel: () => Promise.resolve({ ...run, status: 'cancelled' }),
  } as unknown as RunRepository;
  const connections = { row: () => Promise.resolve({ id: 'src_1' }) } as unknown as ConnectionService;
  return new RunService(runs, connections, queues as QueueService);
}

describe('RunService', () => {
  it('fails the run with the reason and rethrows when its job cannot be queued, so the source is not blocked', async () => {
    const finished: unknown[][] = [];
    const runs = service({ add: () => Promise.reject(new Error('Connection is closed.')) }, finished);
    await expect(runs.start('src_1', 'manual')).rejects.toThrow('Connection is closed.');
    expect(finished).toEqual([
      ['run_1', 'failed', { type: 'system', message: 'could not be queued: Connection is closed.' }],
    ]);
  });

  it('lets a Redis failure while removing a cancelled run’s job surface', async () => {
    const runs = service({ removeJob: () => Promise.reject(new Error('ECONNREFUSED')) }, []);
    await expect(runs.cancel('run_1')).rejects.toThrow('ECONNREFUSED');
  });
});
