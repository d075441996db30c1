import { createHmac } from 'node:crypto';
import { IdentifierFingerprints } from './fingerprints.js';

const reference = (key: Buffer, type: string, value: string) =>
  createHmac('sha256', key).update(`${type}:${value}`).digest('hex');

describe('IdentifierFingerprints', () => {
  it('gives HMAC-SHA256 of "type:value" for keys shorter than, equal to and longer than a block', () => {
    const values = [
      ['email', 'ada@example.io'],
      ['phone', '+14155550100'],
      ['user_id', ''],
      ['email', 'zoë.ünïcode@exämple.io'],
      ['device_id', '€'.repeat(990)], // 1,000 code units of 3 UTF-8 bytes each: the longest the scratch buffer takes
      ['cookie_id', '🍪'.repeat(500)], // longer: a plain HMAC object
    ] as const;
    for (const key of [Buffer.alloc(32, 7), Buffer.alloc(64, 1), Buffer.alloc(100, 9), Buffer.alloc(0)]) {
      const fingerprints = new IdentifierFingerprints(key);
      for (const [type, value] of values) expect(fingerprints.of(type, value)).toBe(reference(key, type, value));
    }
  });

  it('does not carry one message into the next (a shorter message after a longer one)', () => {
    const key = Buffer.alloc(32, 3);
    const fingerprints = new IdentifierFingerprints(key);
    expect(fingerprints.of('email', 'a-much-longer-address@example.io')).toBe(
      reference(key, 'email', 'a-much-longer-address@example.io'),
    );
    expect(fingerprints.of('email', 'a@b.io')).toBe(reference(key, 'email', 'a@b.io'));
  });
});
