import type { Consent } from '@plexus/sdk';

/** The purposes of an IAB TCF v2 TC string's core segment: purpose number (1–24) → consent given. */
export interface TcfConsent {
  version: number;
  /** Purpose numbers the user consented to. */
  purposes: Set<number>;
}

/** Bit offset of `PurposesConsent` (24 bits) in the core segment, after version … SpecialFeatureOptIns. */
const PURPOSES_OFFSET = 152;
const PURPOSES_BITS = 24;

/**
 * Decodes the purpose consents of a TCF v2 TC string: unpadded base64url segments joined by `.`, the core
 * segment first; version in the first 6 bits (must be 2), purpose consents in the 24 bits at offset 152.
 * Returns undefined when the string is not a readable v2 TC string.
 *
 * @example decodeTcString('CQ…').purposes.has(1) // consent to store/access information on a device
 */
export function decodeTcString(tcString: string): TcfConsent | undefined {
  const core = tcString.trim().split('.')[0];
  if (!core || !/^[A-Za-z0-9_-]+$/.test(core)) return undefined;
  const bytes = Buffer.from(core, 'base64url');
  if (bytes.length * 8 < PURPOSES_OFFSET + PURPOSES_BITS) return undefined;
  const bit = (i: number): number => (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  let version = 0;
  for (let i = 0; i < 6; i++) version = (version << 1) | bit(i);
  if (version !== 2) return undefined;
  const purposes = new Set<number>();
  for (let p = 0; p < PURPOSES_BITS; p++) if (bit(PURPOSES_OFFSET + p)) purposes.add(p + 1);
  return { version, purposes };
}

/**
 * Which TCF purposes our consent purposes need (all of them): `ads` — 1 store/access on a device,
 * 3 create a personalised-ads profile, 4 use it to select ads (what audience activation does);
 * `personalization` — 5 and 6 (personalised content profile, and using it); `analytics` — 8 measure content
 * performance and 9 understand audiences through statistics. `email` and `sale` have no TCF purpose and are
 * left unknown.
 */
export const TCF_PURPOSE_MAP: Readonly<Record<'ads' | 'personalization' | 'analytics', readonly number[]>> = {
  ads: [1, 3, 4],
  personalization: [5, 6],
  analytics: [8, 9],
};

/** Per-purpose consent from a TC string (empty when it cannot be decoded). */
export function consentFromTcString(tcString: string): Consent {
  const decoded = decodeTcString(tcString);
  if (!decoded) return {};
  const out: Consent = {};
  for (const [purpose, needs] of Object.entries(TCF_PURPOSE_MAP) as Array<
    [keyof typeof TCF_PURPOSE_MAP, readonly number[]]
  >) {
    out[purpose] = needs.every((p) => decoded.purposes.has(p));
  }
  return out;
}
