import {
  Sha256Memo,
  isSha256Hex,
  isZeroedDeviceId,
  sha256Hex,
  type ActivationMember,
  type TraitValue,
} from '@plexus/sdk';

/**
 * Meta's customer-list normalisation ("Hashing and normalizing data" in the Marketing API docs), then SHA-256 in
 * lower-case hex. Pure functions: the same member always gives the same row.
 */

/** The multi-key schema Plexus sends, in this order, on every request. */
export const META_SCHEMA = ['EMAIL', 'PHONE', 'MADID', 'FN', 'LN', 'ZIP', 'CT', 'ST', 'COUNTRY', 'EXTERN_ID'] as const;
export type MetaKey = (typeof META_SCHEMA)[number];

/** One audience member as Meta takes it: each key normalised and hashed (MADID and EXTERN_ID raw), or absent. */
export type MetaItem = Partial<Record<MetaKey, string>>;

/** EMAIL: trimmed, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** PHONE: digits only, with the country code, no `+`, no leading zeros (`+1 (616) 954-78 88` → `16169547888`). */
export function normalizePhone(phone: string): string {
  return phone.replace(/\D/g, '').replace(/^0+/, '');
}

/** Printable ASCII: Unicode normalisation cannot change it, and its only letters are a–z and A–Z. */
const ASCII = /^[ -~]*$/;
const NOT_A_TO_Z = /[^a-z]/g;

/** FN, LN: lower-case letters only (accented letters kept, as UTF-8), no punctuation or spaces. */
export function normalizeName(name: string): string {
  if (ASCII.test(name)) return name.toLowerCase().replace(NOT_A_TO_Z, '');
  return name
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}]/gu, '');
}

/** CT: lower-case a–z only, no punctuation, special characters or spaces (`Menlo Park` → `menlopark`). */
export function normalizeCity(city: string): string {
  const letters = ASCII.test(city) ? city : city.normalize('NFD').replace(/\p{M}/gu, '');
  return letters.toLowerCase().replace(NOT_A_TO_Z, '');
}

/** ST: a two-letter state code, lower-case. Anything longer is not a code Meta matches: dropped. */
export function normalizeState(state: string): string {
  const code = state
    .trim()
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  return code.length === 2 ? code : '';
}

const FIVE_DIGITS = /^\d{5}$/;

/** ZIP: lower-case, no spaces; a US ZIP+4 keeps its first 5 digits, other dash parts are dropped. */
export function normalizeZip(zip: string, country?: string): string {
  if (FIVE_DIGITS.test(zip)) return zip;
  const compact = zip.trim().toLowerCase().replace(/\s+/g, '');
  const beforeDash = compact.split('-')[0] ?? '';
  return country === 'us' || FIVE_DIGITS.test(beforeDash) ? beforeDash.slice(0, 5) : beforeDash;
}

/** COUNTRY: ISO 3166-1 alpha-2, lower-case; anything else is dropped. */
export function normalizeCountry(country: string): string {
  const code = country.trim().toLowerCase();
  return /^[a-z]{2}$/.test(code) ? code : '';
}

/** MADID: the raw IDFA/GAID, lower-case, not hashed; a zeroed id is dropped. */
export function normalizeMadid(id: string): string {
  const value = id.trim().toLowerCase();
  return isZeroedDeviceId(value) ? '' : value;
}

const text = (value: TraitValue | undefined): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/**
 * Digests of values many members share (see `Sha256Memo`): first and last names, and places (cities, states,
 * countries). Emails, phones and ZIP codes are hashed each time: nearly every member has a value of their own, or
 * there are more of them than a memo would hold.
 */
const names = new Sha256Memo();
const places = new Sha256Memo();

/**
 * A member as one Meta row: the first email (or the profile's `email_sha256` when it has no plain email), phone
 * and device id, names, city, state, ZIP and country from the traits, and the brand's `user_id` as `EXTERN_ID`.
 * Null when the member has none of the keys Meta matches on by itself (EMAIL, PHONE, MADID, EXTERN_ID).
 */
export function toMetaItem(member: ActivationMember): MetaItem | null {
  // The first non-blank value of each type, in one pass.
  let email: string | undefined;
  let emailHash: string | undefined;
  let phone: string | undefined;
  let madid: string | undefined;
  let externId: string | undefined;
  for (const { type, value } of member.identifiers) {
    if (type === 'email') email ??= nonBlank(value);
    else if (type === 'email_sha256') emailHash ??= nonBlank(value);
    else if (type === 'phone') phone ??= nonBlank(value);
    else if (type === 'device_id') madid ??= nonBlank(value);
    else if (type === 'user_id') externId ??= nonBlank(value);
  }
  const item: MetaItem = {};
  emailHash = emailHash?.trim().toLowerCase();
  if (email) item.EMAIL = sha256Hex(normalizeEmail(email));
  else if (emailHash && isSha256Hex(emailHash)) item.EMAIL = emailHash;
  const phoneDigits = phone && normalizePhone(phone);
  if (phoneDigits) item.PHONE = sha256Hex(phoneDigits);
  const deviceId = madid && normalizeMadid(madid);
  if (deviceId) item.MADID = deviceId;
  if (externId) item.EXTERN_ID = externId.trim();
  if (!item.EMAIL && !item.PHONE && !item.MADID && !item.EXTERN_ID) return null;

  const { traits } = member;
  const country = normalizeCountry(text(traits.country) ?? '');
  const firstName = normalizeName(text(traits.firstName) ?? '');
  if (firstName) item.FN = names.hex(firstName);
  const lastName = normalizeName(text(traits.lastName) ?? '');
  if (lastName) item.LN = names.hex(lastName);
  const zip = normalizeZip(text(traits.postalCode) ?? '', country);
  if (zip) item.ZIP = sha256Hex(zip);
  const city = normalizeCity(text(traits.city) ?? '');
  if (city) item.CT = places.hex(city);
  const state = normalizeState(text(traits.state) ?? '');
  if (state) item.ST = places.hex(state);
  if (country) item.COUNTRY = places.hex(country);
  return item;
}

const nonBlank = (value: string): string | undefined => (value.trim() === '' ? undefined : value);

/** The `data` row of an item, aligned with `META_SCHEMA` (blank for an unknown key, as Meta asks). */
export function metaRow(item: MetaItem): string[] {
  return META_SCHEMA.map((key) => item[key] ?? '');
}
