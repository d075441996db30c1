import { ActivationHoldings } from '@plexus/activation';
import { startTestApp } from '../support/app.js';
import { basicAuth, call } from '../support/http.js';
import { profileBy } from '../support/hub.js';
import { fileAndWait } from './support.js';

/**
 * WITH THE REAL ACTIVATION PROVIDER. This file boots the hub as deployed — no test double — and runs a delete
 * through activation's own ActivationHoldings. It is skipped only while the application registers no provider
 * for that port (activation is built apart and merged later); from then on it runs.
 */
const t = await startTestApp({ label: 'privacy-activation' });
const provider = (() => {
  try {
    return t.app.get(ActivationHoldings, { strict: false });
  } catch {
    return undefined;
  }
})();
// Jest runs no hooks of a file whose tests are all skipped: close the hub now when there is nothing to run.
if (!provider) await t.close();

(provider ? describe : describe.skip)('privacy with the real activation provider (PostgreSQL)', () => {
  afterAll(() => t.close());

  it('runs every destination step through activation and leaves nothing held', async () => {
    const web = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    const track = await call(t.url, 'POST', '/v1/identify', {
      headers: basicAuth(web.body.writeKey),
      body: { userId: 'u-hal', traits: { name: 'Hal' } },
    });
    expect(track.status).toBe(200);
    const hal = await profileBy(t, 'user_id:u-hal');
    const done = await fileAndWait(t, { type: 'delete', identifier: { type: 'user_id', value: 'u-hal' } }, 60_000);
    for (const name of ['remove-from-destinations', 'delete-at-destinations', 'erase-ledger'])
      expect(done.steps.find((s: { name: string }) => s.name === name)).toMatchObject({ status: 'done' });
    expect(await provider!.heldBy(hal.id)).toEqual([]);
  });
});
