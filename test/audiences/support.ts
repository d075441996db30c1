import type { ProfileRecord } from '@plexus/sdk';
import { AudienceChangeLog, AudienceEvaluator, AudienceService, Clock, ComputedTraitService } from '@plexus/audiences';
import { AudienceRepository, ComputedTraitRepository, type Database } from '@plexus/storage';
import { identityServices } from '../identity/support.js';

/** A clock tests move by hand. */
export class TestClock extends Clock {
  constructor(private current: Date) {
    super();
  }
  override now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
}

/** The identity and audience services wired by hand over one database (what the modules do in the app). */
export function audienceServices(database: Database, clock: TestClock) {
  const identity = identityServices(database);
  const repository = new AudienceRepository(database);
  const evaluator = new AudienceEvaluator(database, repository, new ComputedTraitRepository(database), clock);
  return {
    ...identity,
    repository,
    evaluator,
    audiences: new AudienceService(database, repository, evaluator, clock),
    changeLog: new AudienceChangeLog(repository),
    computed: new ComputedTraitService(database, new ComputedTraitRepository(database), evaluator, clock),
  };
}

const order = (id: string, at: string, total: number) => ({
  id,
  name: 'Order Completed',
  occurredAt: at,
  properties: { total, currency: 'EUR' },
});

/**
 * The seeded population, evaluated at 2026-06-01T00:00:00Z. Expected memberships in the tests are worked out
 * by hand from this list.
 */
export const PEOPLE: Record<'ann' | 'bob' | 'cyd' | 'dmp1' | 'dmp2', ProfileRecord> = {
  ann: {
    identifiers: [{ type: 'email', value: 'ann@acme.io' }],
    traits: { country: 'FR', signed_up_at: '2026-01-01T00:00:00Z', age: 34, plan: 'pro', name: 'Ann Lee' },
    consent: { ads: true, email: true },
    events: [
      order('a1', '2026-05-01T10:00:00Z', 60),
      order('a2', '2026-05-20T10:00:00Z', 80),
      order('a3', '2026-05-25T10:00:00Z', 10),
      { id: 'a4', name: 'Signed Up', occurredAt: '2026-01-01T00:00:00Z' },
    ],
    observedAt: '2026-05-25T10:00:00Z',
  },
  bob: {
    identifiers: [
      { type: 'email', value: 'bob@acme.io' },
      { type: 'user_id', value: 'u-bob' },
    ],
    traits: { country: 'FR', signed_up_at: '2026-05-25T00:00:00Z', age: 20, plan: 'free' },
    consent: { ads: false },
    events: [order('b1', '2026-04-20T10:00:00Z', 100)],
    observedAt: '2026-05-25T10:00:00Z',
  },
  cyd: {
    identifiers: [{ type: 'phone', value: '+33 6 12 34 56 78' }],
    traits: { country: 'DE', age: 51, tags: ['vip', 'beta'] },
    consent: { ads: true },
    events: [order('c1', '2025-09-01T10:00:00Z', 300), order('c2', '2026-02-01T10:00:00Z', 300)],
    observedAt: '2026-05-01T10:00:00Z',
  },
  dmp1: {
    identifiers: [{ type: 'cookie_id', value: 'ck-0001' }],
    traits: { segments: ['auto-intender', 'sports'] },
    traitExpiry: { segments: '2026-06-10T00:00:00Z' },
    observedAt: '2026-05-30T00:00:00Z',
  },
  dmp2: {
    identifiers: [{ type: 'device_id', value: '6D92078A-8246-4BA4-AE5B-76104861E7DC' }],
    traits: { segments: ['travel'] },
    observedAt: '2026-05-30T00:00:00Z',
  },
};

/** The first rule of the issue: French, ads consent, an email, two orders over 50 in 90 days. */
export const FIRST_EXAMPLE = {
  all: [
    { trait: 'country', op: 'eq', value: 'FR' },
    { consent: 'ads' },
    { identifier: 'email' },
    {
      event: 'Order Completed',
      within: '90d',
      where: [{ property: 'total', op: 'gt', value: 50 }],
      count: { op: 'gte', value: 2 },
    },
  ],
};
