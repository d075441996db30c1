import type { ProfileRecord } from '../../index.js';
import type { FakeContact } from './fake-crm-api.js';

/** Seven contacts: with a page size of 3 the API answers in three pages. */
export const CONTACTS: FakeContact[] = [
  { id: 'c1', email: 'ada@example.com', name: 'Ada', updatedAt: Date.parse('2026-01-01T00:00:00Z') },
  { id: 'c2', email: 'bob@example.com', name: 'Bob', updatedAt: Date.parse('2026-01-02T00:00:00Z') },
  { id: 'c3', email: null, name: 'Cy', updatedAt: Date.parse('2026-01-02T00:00:00Z') },
  { id: 'c4', email: 'dee@example.com', name: 'Dee', updatedAt: Date.parse('2026-01-03T00:00:00Z') },
  { id: 'c5', email: 'eve@example.com', name: 'Eve', updatedAt: Date.parse('2026-01-04T00:00:00Z') },
  { id: 'c6', email: 'fay@example.com', name: 'Fay', updatedAt: Date.parse('2026-01-05T00:00:00Z') },
  { id: 'c7', email: 'gus@example.com', name: 'Gus', updatedAt: Date.parse('2026-01-06T00:00:00Z') },
];

const profile = (id: string, email: string | null, name: string, day: string): ProfileRecord => ({
  identifiers: [
    ...(email ? [{ type: 'email' as const, value: email }] : []),
    { type: 'external_id', value: `example-crm:contact:${id}` },
  ],
  traits: { name },
  observedAt: `2026-01-${day}T00:00:00.000Z`,
});

export const EXPECTED_PROFILES: ProfileRecord[] = [
  profile('c1', 'ada@example.com', 'Ada', '01'),
  profile('c2', 'bob@example.com', 'Bob', '02'),
  profile('c3', null, 'Cy', '02'),
  profile('c4', 'dee@example.com', 'Dee', '03'),
  profile('c5', 'eve@example.com', 'Eve', '04'),
  profile('c6', 'fay@example.com', 'Fay', '05'),
  profile('c7', 'gus@example.com', 'Gus', '06'),
];
