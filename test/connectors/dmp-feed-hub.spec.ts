import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { startS3, type S3Emulator } from '../emulators/s3/s3.emulator.js';
import { profileBy, syncAndWait } from '../support/hub.js';

const ACCESS_KEY = 'AKIADMPHUBTEST';
const SECRET = 'dmp-hub-secret';
const BUCKET = 'dmp-drops';
const DAY = 86_400_000;

const sha = (email: string) => createHash('sha256').update(email).digest('hex');
const iso = (ms: number) => new Date(ms).toISOString();

describe('dmp-feed through the hub (PostgreSQL)', () => {
  let t: TestApp;
  let s3: S3Emulator;
  let sourceId: string;
  const now = Date.now();
  const seen = now - 2 * DAY;
  const IDFA = '6d92078a-8246-4ba4-ae5b-76104861e7dc';
  const ZERO = '00000000-0000-0000-0000-000000000000';

  const sync = (): Promise<any> => syncAndWait(t, sourceId);
  const profileOf = (identifier: string): Promise<any> => profileBy(t, identifier);

  beforeAll(async () => {
    s3 = await startS3({ credentials: { [ACCESS_KEY]: SECRET } });
    s3.state.putObject(
      BUCKET,
      'acme/day-1.csv',
      [
        'cookie_id,device_id,email_sha256,ip,segments,seen_at',
        `c-alice,${IDFA},${sha('alice@shop-mail.net')},203.0.113.57,auto_intender|sports_fans,${iso(seen)}`,
        `c-bob,${ZERO},,198.51.100.23,parents,${iso(seen)}`,
        `,${ZERO},,198.51.100.99,parents,${iso(seen)}`,
        `c-old,,,192.0.2.1,luxury_shoppers,${iso(now - 120 * DAY)}`,
      ].join('\n') + '\n',
    );
    s3.state.putObject(
      BUCKET,
      'acme/day-2.ndjson.gz',
      gzipSync(
        [
          {
            cookie_id: 'c-alice',
            segments: ['travel_intenders'],
            ip: '2001:db8:85a3::8a2e:370:7348',
            seen_at: iso(now - DAY),
          },
          {
            cookie_id: 'c-carol',
            device_id: 'A1B2C3D4-0000-4000-8000-00000000000A',
            segments: ['gamers'],
            seen_at: iso(now - DAY),
          },
        ]
          .map((r) => JSON.stringify(r))
          .join('\n'),
      ),
    );
    s3.state.putObject(BUCKET, 'elsewhere/skip.csv', 'cookie_id\nc-nope\n');
    t = await startTestApp({ label: 'dmp_hub' });
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  it('creates the source through the REST API with the secret key kept secret, and checks it', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'acme dmp',
        connector: 'dmp-feed',
        config: {
          bucket: BUCKET,
          prefix: 'acme/',
          endpoint: s3.url,
          accessKeyId: ACCESS_KEY,
          secretAccessKey: SECRET,
          segmentTtlDays: 30,
          batchSize: 2,
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.config.secretAccessKey).toBe('********');
    sourceId = created.body.id;
    expect((await call(t.url, 'POST', `/v1/sources/${sourceId}/check`, { headers: t.auth })).body).toEqual({
      ok: true,
    });
  });

  it('syncs every file: segment traits with expiry, truncated IP, anonymous identifiers; a zeroed-IDFA-only row is quarantined', async () => {
    const run = await sync();
    expect(run).toMatchObject({ status: 'partial', stats: { read: 6, quarantined: 1 } });

    const alice = await profileOf('cookie_id:c-alice');
    expect(alice.traits).toMatchObject({
      segment_auto_intender: { value: true, expiresAt: iso(seen + 30 * DAY) },
      segment_sports_fans: { value: true, expiresAt: iso(seen + 30 * DAY) },
      segment_travel_intenders: { value: true, expiresAt: iso(now - DAY + 30 * DAY) },
      ip: { value: '2001:db8:85a3::' },
    });
    expect(alice.identifiers.map((i: { type: string }) => i.type).sort()).toEqual([
      'cookie_id',
      'device_id',
      'email_sha256',
    ]);
    expect(JSON.stringify(alice)).not.toContain('203.0.113.57');
    expect((await profileOf(`device_id:${IDFA.toUpperCase()}`)).id).toBe(alice.id);
    expect((await profileOf(`email_sha256:${sha('alice@shop-mail.net')}`)).id).toBe(alice.id);

    // The zeroed IDFA is dropped, the cookie kept.
    const bob = await profileOf('cookie_id:c-bob');
    expect(bob.identifiers.map((i: { type: string }) => i.type)).toEqual(['cookie_id']);
    expect(bob.traits.ip.value).toBe('198.51.100.0');
    // Observed 120 days ago with a 30-day TTL: the membership has lapsed.
    const old = await profileOf('cookie_id:c-old');
    expect(old.traits.segment_luxury_shoppers).toBeUndefined();

    const quarantine = await call(t.url, 'GET', `/v1/sources/${sourceId}/quarantine`, { headers: t.auth });
    expect(quarantine.body.data).toEqual([
      expect.objectContaining({
        record: expect.objectContaining({ file: 'acme/day-1.csv', line: 4 }),
        reason: expect.stringMatching(/line 4: no usable identifier \(device_id is zeroed/),
      }),
    ]);
    expect(await profileOf('cookie_id:c-nope')).toBeUndefined();
  });

  it('reads only a file added to the bucket on the next run; a malformed line in it is quarantined', async () => {
    s3.state.putObject(
      BUCKET,
      'acme/day-3.csv.gz',
      gzipSync(`cookie_id,segments,seen_at\nc-dave,gamers,${iso(now)}\nc-erin,parents,${iso(now)}\n`),
    );
    s3.faults.inject({ kind: 'malformed-record', path: 'day-3' });
    const run = await sync();
    expect(run).toMatchObject({ status: 'partial', stats: { read: 3, quarantined: 1 } });
    expect((await profileOf('cookie_id:c-erin')).traits.segment_parents.value).toBe(true);
    const quarantine = await call(t.url, 'GET', `/v1/sources/${sourceId}/quarantine`, { headers: t.auth });
    expect(quarantine.body.data.map((q: { reason: string }) => q.reason)).toContainEqual(
      expect.stringMatching(/acme\/day-3\.csv\.gz line 2: /),
    );
    expect(await sync()).toMatchObject({ status: 'succeeded', stats: { read: 0 } });
  });

  it('fails the run with a config error when the bucket refuses the credentials', async () => {
    s3.faults.inject({ kind: 'expired-token' });
    const run = await sync();
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ type: 'config', message: expect.stringMatching(/ExpiredToken/) });
    expect(run.error.message).not.toContain(SECRET);
  });
});
