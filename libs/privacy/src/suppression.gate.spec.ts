import { randomBytes } from 'node:crypto';
import type { NormalizedRecord } from '@plexus/profile';
import { SecretBox, type SuppressionRepository } from '@plexus/storage';
import { IdentifierHasher } from './identifier-hasher.js';
import { SuppressionGate } from './suppression.gate.js';

const record = (...ids: Array<[string, string]>): NormalizedRecord =>
  ({ identifiers: ids.map(([type, value]) => ({ type, value })) }) as unknown as NormalizedRecord;

describe('SuppressionGate', () => {
  const hasher = new IdentifierHasher(new SecretBox(randomBytes(32)));

  /** The repository's one read, over a fixed list; any other call fails the test. */
  function gateOver(listed: string[]): { gate: SuppressionGate; lookups: string[][] } {
    const lookups: string[][] = [];
    const repository = {
      present: (hashes: string[]) => {
        lookups.push(hashes);
        return Promise.resolve(new Set(hashes.filter((h) => listed.includes(h))));
      },
    } as unknown as SuppressionRepository;
    return { gate: new SuppressionGate(hasher, repository), lookups };
  }

  it('refuses every record carrying a listed identifier, with one lookup of the distinct hashes', async () => {
    const { gate, lookups } = gateOver([hasher.hash('email', 'ann@acme.io')]);
    const refused = await gate.refused([
      record(['email', 'ann@acme.io'], ['cookie_id', 'c1']),
      record(['email', 'bob@bobmail.io'], ['cookie_id', 'c1']),
      record(['user_id', 'u1'], ['email', 'ann@acme.io']),
    ]);
    expect([...refused]).toEqual([0, 2]);
    expect(lookups).toHaveLength(1);
    expect(lookups[0]).toHaveLength(4);
  });

  it('never sends identifier values to the list, only keyed hashes', async () => {
    const { gate, lookups } = gateOver([]);
    await gate.refused([record(['email', 'ann@acme.io'])]);
    expect(lookups[0][0]).not.toContain('ann');
    expect(lookups[0][0]).toMatch(/^[\w-]{43}$/);
    // Another server key gives another hash: the list cannot be tested without the key.
    expect(new IdentifierHasher(new SecretBox(randomBytes(32))).hash('email', 'ann@acme.io')).not.toBe(lookups[0][0]);
  });
});
