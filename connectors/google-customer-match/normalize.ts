import { Sha256Memo, isSha256Hex, sha256Hex, type ActivationMember, type Consent, type TraitValue } from '@plexus/sdk';

/**
 * Google's Customer Match normalisation (Data Manager API "Format user data"), then SHA-256 in lower-case hex
 * (`encoding: HEX`). Pure functions.
 */

export type UserIdentifier =
  | { emailAddress: string }
  | { phoneNumber: string }
  | { address: { givenName: string; familyName: string; regionCode: string; postalCode: string } };

export type ConsentStatus = 'CONSENT_GRANTED' | 'CONSENT_DENIED' | 'CONSENT_STATUS_UNSPECIFIED';

export interface GoogleItem {
  userIdentifiers: UserIdentifier[];
  /** Per-member consent (overrides request-level consent); absent when the profile says nothing. */
  consent?: { adUserData: ConsentStatus; adPersonalization: ConsentStatus };
}

/** At most 10 user identifiers per audience member. */
export const MAX_IDENTIFIERS = 10;

/**
 * Email: every space removed, lower-cased; for gmail.com and googlemail.com, dots and a `+suffix` removed from the
 * local part (`Jane.Doe+news@Gmail.com` → `janedoe@gmail.com`).
 */
export function normalizeEmail(email: string): string {
  const compact = email.replace(/\s+/g, '').toLowerCase();
  const at = compact.lastIndexOf('@');
  if (at < 0) return compact;
  const domain = compact.slice(at + 1);
  if (domain !== 'gmail.com' && domain !== 'googlemail.com') return compact;
  const local = compact.slice(0, at).split('+')[0].replace(/\./g, '');
  return `${local}@${domain}`;
}

/** Phone: E.164 with the `+` and the country code, digits only after it (`+1 (800) 555-0100` → `+18005550100`). */
export function normalizePhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').replace(/^00/, '');
  return digits.length >= 8 ? `+${digits}` : '';
}

/** Given and family names: trimmed, lower-case, no punctuation (prefixes and suffixes are the source's business). */
export function normalizeName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, '')
    .replace(/\s+/g, ' ');
}

const text = (value: TraitValue | undefined): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/** `true` → granted, `false` → denied, unknown → unspecified. */
function status(value: boolean | undefined): ConsentStatus {
  return value === true ? 'CONSENT_GRANTED' : value === false ? 'CONSENT_DENIED' : 'CONSENT_STATUS_UNSPECIFIED';
}

/**
 * Google's two consent signals from the profile's purposes: `adUserData` from `ads`, `adPersonalization` from
 * `personalization` when the profile has it, else `ads`. Undefined when the profile says nothing about either.
 */
export function googleConsent(consent: Consent | undefined): GoogleItem['consent'] {
  if (consent?.ads === undefined && consent?.personalization === undefined) return undefined;
  return { adUserData: status(consent.ads), adPersonalization: status(consent.personalization ?? consent.ads) };
}

/** Digests of given and family names, which many members share (see `Sha256Memo`). */
const names = new Sha256Memo();

/**
 * A member's identifiers the Data Manager way: every email (the profile's `email_sha256` only when it has no
 * plain email), every phone, and the address when first name, last name, country and postal code are all known
 * (Google requires the four together), at most 10; null when there is none.
 */
export function toGoogleItem(member: ActivationMember): GoogleItem | null {
  const ids: UserIdentifier[] = [];
  const seen = new Set<string>();
  const push = (id: UserIdentifier, key: string) => {
    if (!seen.has(key) && ids.length < MAX_IDENTIFIERS) {
      seen.add(key);
      ids.push(id);
    }
  };
  const emails = member.identifiers.filter((i) => i.type === 'email' && i.value.trim() !== '');
  for (const email of emails) {
    const hash = sha256Hex(normalizeEmail(email.value));
    push({ emailAddress: hash }, `e:${hash}`);
  }
  if (emails.length === 0) {
    for (const hashed of member.identifiers.filter((i) => i.type === 'email_sha256')) {
      const hash = hashed.value.trim().toLowerCase();
      if (isSha256Hex(hash)) push({ emailAddress: hash }, `e:${hash}`);
    }
  }
  for (const phone of member.identifiers.filter((i) => i.type === 'phone')) {
    const e164 = normalizePhone(phone.value);
    if (e164) push({ phoneNumber: sha256Hex(e164) }, `p:${e164}`);
  }
  const given = normalizeName(text(member.traits.firstName) ?? '');
  const family = normalizeName(text(member.traits.lastName) ?? '');
  const region = (text(member.traits.country) ?? '').toUpperCase();
  const postal = text(member.traits.postalCode) ?? '';
  if (given && family && /^[A-Z]{2}$/.test(region) && postal) {
    const address = {
      givenName: names.hex(given),
      familyName: names.hex(family),
      regionCode: region,
      postalCode: postal,
    };
    push({ address }, 'address');
  }
  if (ids.length === 0) return null;
  const consent = googleConsent(member.consent);
  return consent ? { userIdentifiers: ids, consent } : { userIdentifiers: ids };
}
