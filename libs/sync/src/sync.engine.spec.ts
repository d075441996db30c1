import { NotFoundError } from '@plexus/errors';
import type { ConnectionService, ConnectorContexts } from '@plexus/connectors';
import type { IngestService } from '@plexus/identity';
import type { RunRecord, RunRepository, UploadRepository } from '@plexus/storage';
import { SyncEngine } from './sync.engine.js';

const run = { id: 'run_1', sourceId: 'src_1', status: 'running', options: {}, cancelRequested: false } as RunRecord;

/** Strict fakes: only the methods the case needs exist, so any other call fails the test. */
function engine(row: () => Promise<unknown>, finished: unknown[][]): SyncEngine {
  const runs = {
    start: () => Promise.resolve(run),
    finish: (...args: unknown[]) => {
      finished.push(args);
      return Promise.resolve({ ...run, status: args[1] });
    },
  } as unknown as RunRepository;
  const connections = { row } as unknown as ConnectionService;
  return new SyncEngine(runs, connections, {} as ConnectorContexts, {} as IngestService, {} as UploadRepository);
}

describe('SyncEngine', () => {
  it('fails the run as config when its source was deleted', async () => {
    const finished: unknown[][] = [];
    await engine(() => Promise.reject(new NotFoundError('No source src_1')), finished).execute('run_1');
    expect(finished).toEqual([['run_1', 'failed', { type: 'config', message: 'source src_1 no longer exists' }]]);
  });

  it('lets any other error reading the source (the database is down) surface instead of calling the source gone', async () => {
    const finished: unknown[][] = [];
    const down = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    await expect(engine(() => Promise.reject(down), finished).execute('run_1')).rejects.toBe(down);
    expect(finished).toEqual([]);
  });
});
