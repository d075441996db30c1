import { jest } from '@jest/globals';
import { AudienceJobs } from '@plexus/audiences';
import type { ProfileChanges } from '@plexus/identity';
import type { QueueService } from '@plexus/queue';
import type { Database } from '@plexus/storage';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { audienceServices, TestClock } from './support.js';

const person = (i: number) => ({
  identifiers: [{ type: 'email' as const, value: `p${i}@drain.io` }],
  traits: { country: i % 2 === 0 ? 'FR' : 'DE' },
  observedAt: '2026-05-30T00:00:00Z',
});

describe('real-time drain of changed profiles', () => {
  let tdb: TestDatabase;
  let database: Database;
  let s: ReturnType<typeof audienceServices>;
  let changes: ProfileChanges;
  let jobs: AudienceJobs;
  let french: string;

  beforeAll(async () => {
    tdb = await createTestDatabase('audiences_drain');
    database = await tdb.open();
    s = audienceServices(database, new TestClock(new Date('2026-06-01T00:00:00Z')));
    changes = s.ingest['changes'];
    // The queue is not used by draining; the jobs are called directly, as the worker would.
    jobs = new AudienceJobs({} as QueueService, changes, s.evaluator, s.computed);
    french = (await s.audiences.create({ name: 'French', rule: { trait: 'country', op: 'eq', value: 'FR' } })).id;
  });
  afterAll(async () => {
    await database.close();
    await tdb.drop();
  });

  it('concurrent drain jobs in one process evaluate each changed profile once, not once per job', async () => {
    await s.ingest.ingest(
      Array.from({ length: 1_200 }, (_, i) => person(i)),
      { sourceId: 'crm' },
    );
    expect(await changes['pendingChanges'].count()).toBe(1_200);
    const evaluate = jest.spyOn(s.evaluator, 'evaluateProfiles');
    try {
      // What a worker with concurrency 4 does when four slice jobs are due together.
      const counts = await Promise.all([jobs.drain(), jobs.drain(), jobs.drain(), jobs.drain()]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1_200);
      const evaluated = evaluate.mock.calls.flatMap(([ids]) => ids);
      expect(evaluated).toHaveLength(1_200);
      expect(new Set(evaluated).size).toBe(1_200);
    } finally {
      evaluate.mockRestore();
    }
    expect(await changes['pendingChanges'].count()).toBe(0);
    expect((await s.audiences.get(french)).size).toBe(600);
  });

  it('a job arriving while a drain runs leaves its changes to that drain, which takes them before it stops', async () => {
    const original = s.evaluator.evaluateProfiles.bind(s.evaluator);
    let late: Promise<number> | undefined;
    const evaluate = jest.spyOn(s.evaluator, 'evaluateProfiles').mockImplementation(async (ids) => {
      if (!late) {
        // A change committed mid-drain, and its wake-up job.
        await s.ingest.ingest([person(5_000)], { sourceId: 'crm' });
        late = jobs.drain();
      }
      return original(ids);
    });
    try {
      await s.ingest.ingest([person(4_000)], { sourceId: 'crm' });
      expect(await jobs.drain()).toBe(2);
      expect(await late).toBe(0);
      expect(evaluate).toHaveBeenCalledTimes(2);
    } finally {
      evaluate.mockRestore();
    }
    expect(await changes['pendingChanges'].count()).toBe(0);
    expect((await s.audiences.get(french)).size).toBe(602);
  });
});
