import { sha256Hex } from '@plexus/profile';
import { startTestApp, type TestApp } from '../support/app.js';
import { basicAuth, call } from '../support/http.js';
import { profileBy } from '../support/hub.js';
import { fileAndWait } from './support.js';

// No activation provider here: the destination steps say there is nothing to remove.
describe('privacy requests on the embedded database (PGlite)', () => {
  let t: TestApp;
  let writeKey: string;
  const track = (body: Record<string, unknown>) =>
    call(t.url, 'POST', '/v1/batch', { headers: basicAuth(writeKey), body: { batch: [body] } });

  beforeAll(async () => {
    t = await startTestApp({ label: 'privacy-pglite', storage: 'pglite' });
    const web = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    writeKey = web.body.writeKey;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exports, erases and then refuses a person', async () => {
    await track({ type: 'identify', userId: 'u-gus', anonymousId: 'anon-gus', traits: { name: 'Gus' } });
    await track({ type: 'track', userId: 'u-gus', event: 'Order Completed' });
    const gus = await profileBy(t, 'user_id:u-gus');
    const exported = await fileAndWait(t, { type: 'export', identifier: { type: 'user_id', value: 'u-gus' } });
    const doc = await call(t.url, 'GET', `/v1/privacy/requests/${exported.id}/export`, { headers: t.auth });
    expect(doc.body.profile.id).toBe(gus.id);
    expect(doc.body.events.map((e: { name: string }) => e.name)).toEqual(['Order Completed']);

    const deleted = await fileAndWait(t, { type: 'delete', identifier: { type: 'anonymous_id', value: 'anon-gus' } });
    expect(deleted.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'resolve:done',
      'suppress:done',
      'erase:done',
      'remove-from-destinations:done',
      'delete-at-destinations:done',
      'erase-ledger:done',
      'verify:done',
    ]);
    expect(await profileBy(t, 'user_id:u-gus')).toBeUndefined();
    // The export document of an erased person is erased with them.
    expect((await call(t.url, 'GET', `/v1/privacy/requests/${exported.id}/export`, { headers: t.auth })).status).toBe(
      404,
    );

    expect((await track({ type: 'track', userId: 'u-gus', event: 'Page Viewed' })).status).toBe(200);
    expect(await profileBy(t, 'user_id:u-gus')).toBeUndefined();
    // A keyed hash, not the value nor its plain SHA-256, is what the list keeps.
    const hashes = await call(t.url, 'GET', `/v1/privacy/requests/${deleted.id}`, { headers: t.auth });
    expect(JSON.stringify(hashes.body)).not.toContain('u-gus');
    expect(JSON.stringify(hashes.body)).not.toContain(sha256Hex('u-gus'));
  });
});
