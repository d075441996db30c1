import { createHash } from 'node:crypto';
import { Sha256Memo, isSha256Hex, isZeroedDeviceId, sha256Hex } from './hashing.js';

const reference = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

describe('hashing', () => {
  it('sha256Hex gives the lower-case hex digest of the UTF-8 bytes', () => {
    expect(sha256Hex('alice@example.com')).toBe('ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976');
    expect(sha256Hex('zoë')).toBe(reference('zoë'));
    expect(isSha256Hex(sha256Hex('x'))).toBe(true);
    expect(isSha256Hex(sha256Hex('x').toUpperCase())).toBe(false);
    expect(isZeroedDeviceId(' 00000000-0000-0000-0000-000000000000 ')).toBe(true);
  });

  it('Sha256Memo gives the same digests as sha256Hex, each distinct value hashed once', () => {
    const memo = new Sha256Memo();
    const values = ['ada', 'lovelace', 'menlopark', 'us', 'ada', 'zoë', 'us'];
    expect(values.map((v) => memo.hex(v))).toEqual(values.map(reference));
    expect(memo.size).toBe(5);
  });

  it('Sha256Memo stays within its limit and keeps answering correctly after starting afresh', () => {
    const memo = new Sha256Memo(3);
    for (let i = 0; i < 10; i++) {
      expect(memo.hex(`v${i}`)).toBe(reference(`v${i}`));
      expect(memo.size).toBeLessThanOrEqual(3);
    }
    expect(memo.hex('v9')).toBe(reference('v9'));
  });
});
