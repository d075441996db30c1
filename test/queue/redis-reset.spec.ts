import { QueueService } from '@plexus/queue';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { person, startActivationApp, VIP_RULE } from '../activation/support.js';
import { deleteRedisPrefix } from '../support/redis.js';
import { until } from '../support/wait.js';

type Harness = Awaited<ReturnType<typeof startActivationApp>>;
const TOKEN = 'meta-reset-token';

/**
 * Redis loses the deployment's data (every key under the prefix deleted): the process that notices re-creates the
 * activation tick, the scheduler of each scheduled activation and the retention sweep's, and queues a delivery
 * of every activation with work, all from PostgreSQL.
 */
describe('schedulers re-created after Redis lost its data', () => {
  let h: Harness;
  let meta: MetaEmulator;
  let queues: QueueService;

  beforeAll(async () => {
    meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false });
    h = await startActivationApp('redis_reset');
    queues = h.t.app.get(QueueService);
  }, 120_000);
  afterAll(async () => {
    await h?.t.close();
    await meta?.close();
  });

  const ids = async (job: Parameters<QueueService['schedulers']>[0]) =>
    (await queues.schedulers(job)).map((s) => s.id).sort();

  it('brings back the tick, scheduled activations, the retention sweep and pending deliveries', async () => {
    await h.store([person(1), person(2)]);
    const destinationId = await h.createDestination('Meta', 'meta-custom-audiences', {
      accessToken: TOKEN,
      adAccountId: '1000',
      baseUrl: meta.url,
      requestsPerSecond: 100,
    });
    const realTime = await h.activate({
      audienceId: await h.createAudience('VIP', VIP_RULE),
      destinationId,
      mode: 'upsert',
    });
    const scheduled = await h.activate({
      audienceId: await h.createAudience('Everyone', { identifier: 'email' }),
      destinationId,
      mode: 'upsert',
      schedule: { everySeconds: 3600 },
    });
    // The tick and the scheduled activations share the activation queue.
    const activationSchedulers = [`activation-${scheduled}`, 'activation-tick'].sort();
    expect(await ids('activation.tick')).toEqual(activationSchedulers);
    expect(await ids('privacy.retention')).toContain('maintenance:privacy.retention');

    await deleteRedisPrefix(h.t.env.QUEUE_PREFIX);
    expect(await ids('activation.tick')).toEqual([]);
    const deliveries = queues.partitionQueue('activation.deliver', destinationId);
    expect(await deliveries.getJob(`deliver-${realTime}`)).toBeUndefined();

    // Each process checks its marker key every 5 seconds.
    await until(async () => (await ids('activation.tick')).length === 2, 15_000, 200);
    expect(await ids('activation.tick')).toEqual(activationSchedulers);
    await until(async () => (await ids('privacy.retention')).includes('maintenance:privacy.retention'), 5_000, 200);
    // The real-time activation has undelivered changes: its delivery is queued again on its destination's queue.
    const deliver = await deliveries.getJob(`deliver-${realTime}`);
    expect(deliver?.data).toEqual({ activationId: realTime, destinationId });
  }, 60_000);
});
