import { lazyRecords, startHubSpot, syntheticHubSpotContacts, type HubSpotEmulator } from '../../emulators/index.js';
import { basicAuth, call } from '../../support/http.js';
import { until } from '../../support/wait.js';
import { AUTH } from './cluster.js';

/**
 * The work every scenario runs, with and without its fault: a HubSpot sync slow enough to be interrupted, a
 * burst of tracking events from a client that retries as analytics.js does, and audiences over both.
 */

export const HUBSPOT_TOKEN = 'hs-faults-token';
const FINISHED = ['succeeded', 'partial', 'failed', 'cancelled'];

/** HubSpot with `count` contacts on a real-looking domain (example.org is a blocked placeholder by default). */
export function startFaultHubSpot(count: number): Promise<HubSpotEmulator> {
  const base = syntheticHubSpotContacts(count, { companies: 20 });
  const contacts = lazyRecords(count, (i) => {
    const contact = base.at(i);
    const email = contact.properties.email!.replace('@example.org', '@plexus-faults.io');
    return { ...contact, properties: { ...contact.properties, email } };
  });
  return startHubSpot({ tokens: [HUBSPOT_TOKEN], contacts, rateLimit: false });
}

export async function createHubSpotSource(
  api: string,
  hubspot: HubSpotEmulator,
  requestsPerSecond = 4,
): Promise<string> {
  const created = await call(api, 'POST', '/v1/sources', {
    headers: AUTH,
    body: {
      name: 'HubSpot',
      connector: 'hubspot',
      config: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url, pageSize: 100, requestsPerSecond },
    },
  });
  if (created.status !== 201)
    throw new Error(`create HubSpot source → ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

export async function createEventsSource(api: string): Promise<{ id: string; writeKey: string }> {
  const created = await call(api, 'POST', '/v1/sources', {
    headers: AUTH,
    body: { name: 'Website', connector: 'http-events', config: {} },
  });
  if (created.status !== 201) throw new Error(`create events source → ${created.status}`);
  return { id: created.body.id, writeKey: created.body.writeKey };
}

export async function startSync(api: string, sourceId: string): Promise<string> {
  const started = await call(api, 'POST', `/v1/sources/${sourceId}/sync`, { headers: AUTH });
  if (started.status !== 202) throw new Error(`sync → ${started.status} ${JSON.stringify(started.body)}`);
  return started.body.runId as string;
}

export async function run(api: () => string, runId: string): Promise<any> {
  for (;;) {
    try {
      return (await call(api(), 'GET', `/v1/runs/${runId}`, { headers: AUTH })).body;
    } catch {
      await new Promise((r) => setTimeout(r, 200)); // the API is restarting
    }
  }
}

export async function waitForRun(api: () => string, runId: string, timeoutMs = 120_000): Promise<any> {
  return until(
    async () => {
      const r = await run(api, runId);
      return FINISHED.includes(r.status) ? r : undefined;
    },
    timeoutMs,
    200,
  );
}

/** The events of the burst: `people` visitors, each identified by email and tracked `perPerson` times. */
export function burst(people: number, perPerson: number): object[] {
  const messages: object[] = [];
  for (let p = 0; p < people; p++) {
    const userId = `user-${p}`;
    messages.push({
      type: 'identify',
      messageId: `identify-${p}`,
      userId,
      anonymousId: `anon-${p}`,
      traits: { email: `visitor${p}@plexus-faults.io`, plan: p % 3 === 0 ? 'pro' : 'free' },
    });
    for (let e = 0; e < perPerson; e++) {
      messages.push({
        type: 'track',
        messageId: `track-${p}-${e}`,
        userId,
        event: e % 2 === 0 ? 'Page Viewed' : 'Order Completed',
        properties: { total: 10 * (e + 1) },
      });
    }
  }
  return messages;
}

/**
 * Sends `messages` in batches of `batchSize` the way a tracking client does: a batch that gets no answer or a
 * 5xx is sent again, unchanged (same message ids), to whichever API answers — so nothing is lost, and the hub's
 * idempotency is what keeps anything from being stored twice. Returns how many sends had to be retried.
 */
export async function sendWithRetries(
  apis: () => string[],
  writeKey: string,
  messages: object[],
  batchSize = 50,
): Promise<number> {
  let retries = 0;
  for (let i = 0, attempt = 0; i < messages.length;) {
    const targets = apis();
    const api = targets[attempt % targets.length];
    try {
      const res = await call(api, 'POST', '/v1/batch', {
        headers: basicAuth(writeKey),
        body: { batch: messages.slice(i, i + batchSize) },
      });
      if (res.status >= 500) throw new Error(`status ${res.status}`);
      if (res.status !== 200) throw new Error(`batch refused: ${res.status} ${JSON.stringify(res.body)}`);
      i += batchSize;
      attempt = 0;
    } catch (error) {
      if ((error as Error).message.startsWith('batch refused')) throw error;
      retries++;
      attempt++;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return retries;
}

export const AUDIENCES = [
  { name: 'Pro visitors', rule: { trait: 'plan', op: 'eq', value: 'pro' } },
  {
    name: 'Buyers',
    rule: { event: 'Order Completed', within: '30d', count: { op: 'gte', value: 1 } },
  },
  { name: 'Reachable by email', rule: { identifier: 'email' } },
];

export async function createAudiences(api: string): Promise<string[]> {
  const ids: string[] = [];
  for (const audience of AUDIENCES) {
    const created = await call(api, 'POST', '/v1/audiences', { headers: AUTH, body: audience });
    if (created.status !== 201) throw new Error(`create audience → ${created.status} ${JSON.stringify(created.body)}`);
    ids.push(created.body.id);
  }
  return ids;
}
