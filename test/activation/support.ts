import { randomUUID } from 'node:crypto';
import { ActivationEngine, type DeliverResult } from '@plexus/activation';
import { AudienceEvaluator } from '@plexus/audiences';
import { IngestService } from '@plexus/identity';
import type { ProfileRecord } from '@plexus/sdk';
import { ActivationRepository } from '@plexus/storage';
import { startTestApp, type TestApp } from '../support/app.js';
import { call, type JsonResponse } from '../support/http.js';

/** Stores an activation row (upsert mode, at the start of its change log) for a repository test; returns its id. */
export async function insertActivation(repository: ActivationRepository): Promise<string> {
  const id = randomUUID();
  await repository.insert({
    id,
    audienceId: randomUUID(),
    destinationId: `dst_${id.slice(0, 8)}`,
    mode: 'upsert',
    identifiers: [],
    schedule: null,
    externalId: null,
    cursor: 0,
    mirror: null,
  });
  return id;
}

/**
 * The hub without its job workers: tests drive deliveries themselves (`deliver`), so each step — send, record,
 * crash, resume — happens when the test says.
 */
export async function startActivationApp(
  label: string,
  storage: 'postgres' | 'pglite' = 'postgres',
  env: Record<string, string> = {},
) {
  const t = await startTestApp({ label, storage, env: { RUN_WORKERS: 'false', ...env } });
  return withServices(t);
}

export function withServices(t: TestApp) {
  const api = (method: string, path: string, body?: unknown): Promise<JsonResponse> =>
    call(t.url, method, path, { headers: t.auth, body });
  const engine = t.app.get(ActivationEngine);
  const ingest = t.app.get(IngestService);
  const evaluator = t.app.get(AudienceEvaluator);
  const repository = t.app.get(ActivationRepository);
  return {
    t,
    api,
    engine,
    ingest,
    evaluator,
    repository,
    /** Stores records as a source would (profile changes are published as in production). */
    async store(records: ProfileRecord[]): Promise<string[]> {
      const { profileIds } = await ingest.ingest(records, { sourceId: 'crm' });
      if (profileIds.some((id) => id === null)) throw new Error('a record was not stored');
      return profileIds as string[];
    },
    /** Delivers until the activation has nothing left to do now (or must wait / stop). */
    async deliverAll(activationId: string): Promise<DeliverResult> {
      for (let i = 0; i < 100; i++) {
        const result = await engine.deliver(activationId, { budgetMs: 60_000 });
        if (result.state !== 'more') return result;
      }
      throw new Error('delivery did not settle');
    },
    async createAudience(name: string, rule: unknown): Promise<string> {
      const created = await api('POST', '/v1/audiences', { name, rule });
      if (created.status !== 201) throw new Error(`audience: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body.id as string;
    },
    async createDestination(name: string, connector: string, config: Record<string, unknown>): Promise<string> {
      const created = await api('POST', '/v1/destinations', { name, connector, config });
      if (created.status !== 201) throw new Error(`destination: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body.id as string;
    },
    async activate(body: Record<string, unknown>): Promise<string> {
      const created = await api('POST', '/v1/activations', body);
      if (created.status !== 201) throw new Error(`activation: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body.id as string;
    },
  };
}

/** A person of the tests: an email, a phone, first name and country, ads consent unless told otherwise. */
export function person(
  n: number,
  options: { ads?: boolean; vip?: boolean; identifiers?: ProfileRecord['identifiers'] } = {},
): ProfileRecord {
  return {
    identifiers: options.identifiers ?? [
      { type: 'email', value: ` Person${n}@Acme-Shop.io ` },
      { type: 'phone', value: `+1 415 555 ${String(1000 + n)}` },
    ],
    traits: { firstName: `Ada${n}`, country: 'US', vip: options.vip ?? true },
    consent: { ads: options.ads ?? true },
    observedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  };
}

export const VIP_RULE = { trait: 'vip', op: 'eq', value: true };
