/**
 * Format checks shared by the ad-platform emulators: what a platform accepts as a SHA-256 hash or a raw mobile
 * advertising id. Normalisation before hashing cannot be seen in a hash, so the emulators check what can be seen
 * (hex, length, case) and tests check a few hashes against values computed by hand from the vendors' examples.
 */

/** 64 lower-case hex characters: a SHA-256 digest in the `HEX` encoding every platform here documents. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A raw IDFA/GAID as platforms take it unhashed (Meta `MADID`): a lower-case UUID. */
export const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The zeroed advertising id a device sends when tracking is not allowed; never a real device. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

/** Why a raw mobile advertising id is refused, or undefined when it is a usable lower-case UUID. */
export function madidProblem(value: string): string | undefined {
  if (SHA256_HEX.test(value)) return 'MADID must be sent raw, not hashed';
  if (LOWER_UUID.test(value.toLowerCase()) && value !== value.toLowerCase()) return 'MADID must be lower-case';
  if (!LOWER_UUID.test(value)) return 'MADID is not an advertising id (UUID)';
  if (value === ZERO_UUID) return 'MADID is the zeroed id of a device that does not allow tracking';
  return undefined;
}
