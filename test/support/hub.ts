import type { TestApp } from './app.js';
import { call } from './http.js';
import { until } from './wait.js';

const FINISHED = ['succeeded', 'partial', 'failed', 'cancelled'];

/** Waits for a run to end and returns it as `GET /v1/runs/:id` shows it. */
export async function waitForRun(t: TestApp, runId: string, timeoutMs = 30_000): Promise<any> {
  return until(async () => {
    const r = await call(t.url, 'GET', `/v1/runs/${runId}`, { headers: t.auth });
    return FINISHED.includes(r.body.status) ? r.body : undefined;
  }, timeoutMs);
}

/** Starts a run of the source through the API (202) and waits for it to end. */
export async function syncAndWait(t: TestApp, sourceId: string, timeoutMs = 30_000): Promise<any> {
  const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
  if (started.status !== 202)
    throw new Error(`POST /v1/sources/${sourceId}/sync → ${started.status}: ${JSON.stringify(started.body)}`);
  return waitForRun(t, started.body.runId as string, timeoutMs);
}

/** The first profile found by `type:value` through `GET /v1/profiles?identifier=` (undefined when none). */
export async function profileBy(t: TestApp, identifier: string): Promise<any> {
  const found = await call(t.url, 'GET', `/v1/profiles?identifier=${encodeURIComponent(identifier)}`, {
    headers: t.auth,
  });
  if (found.status !== 200) throw new Error(`profile lookup ${identifier} → ${found.status}`);
  return found.body.data[0];
}
