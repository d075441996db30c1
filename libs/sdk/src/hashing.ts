import { hash } from 'node:crypto';

/**
 * Hashing helpers for destinations: ad platforms match on SHA-256 digests of normalised identifiers, in
 * lower-case hex. Normalisation differs by platform and stays in each connector; the digest does not.
 */

const SHA256_HEX = /^[0-9a-f]{64}$/;
const ZEROED_DEVICE_ID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

/**
 * The SHA-256 digest of a UTF-8 string in lower-case hex (`crypto.hash`, about 3× faster than `createHash`).
 *
 * @example sha256Hex('alice@example.com') // 'ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976'
 */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/**
 * SHA-256 hex digests of values that many members share — first and last names, cities, states, countries —
 * remembered so each distinct value is hashed once per process rather than once per member. Holds at
 * most `limit` digests and starts afresh when full, so memory stays bounded however many values pass through. Not
 * for values nearly every member has its own of (emails, phones): those would only churn it.
 *
 * @example
 * const names = new Sha256Memo();
 * names.hex('ada') === sha256Hex('ada') // true; the second `names.hex('ada')` is a lookup
 */
export class Sha256Memo {
  private readonly digests = new Map<string, string>();

  constructor(private readonly limit = 10_000) {}

  hex(value: string): string {
    let digest = this.digests.get(value);
    if (digest === undefined) {
      if (this.digests.size >= this.limit) this.digests.clear();
      digest = sha256Hex(value);
      this.digests.set(value, digest);
    }
    return digest;
  }

  /** How many digests it holds now. */
  get size(): number {
    return this.digests.size;
  }
}

/**
 * Whether a value already is a SHA-256 digest in lower-case hex (e.g. a profile's `email_sha256`).
 *
 * @example isSha256Hex('A'.repeat(64)) // false: platforms want lower-case hex
 */
export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/**
 * Whether an IDFA/GAID is the zeroed id a device reports when tracking is not allowed (never send it).
 *
 * @example isZeroedDeviceId('00000000-0000-0000-0000-000000000000') // true
 */
export function isZeroedDeviceId(value: string): boolean {
  return ZEROED_DEVICE_ID.test(value.trim());
}
