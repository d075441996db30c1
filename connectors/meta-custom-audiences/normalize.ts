import { isSha256Hex, isZeroedDeviceId, sha256Hex, type ActivationMember, type TraitValue } from '@plexus/sdk';

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

/** FN, LN: lower-case letters only (accented letters kept, as UTF-8), no punctuation or spaces. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}]/gu, '');
}

/** CT: lower-case a–z only, no punctuation, special characters or spaces (`Menlo Park` → `menlopark`). */
export function normalizeCity(city: string): string {
  return city
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

/** ST: a two-letter state code, lower-case. Anything longer is not a code Meta matches: dropped. */
export function normalizeState(state: string): string {
  const code = state
    .trim()
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  return code.length === 2 ? code : '';
}

/** ZIP: lower-case, no spaces; a US ZIP+4 keeps its first 5 digits, other dash parts are dropped. */
export function normalizeZip(zip: string, country?: string): string {
  const compact = zip.trim().toLowerCase().replace(/\s+/g, '');
  const beforeDash = compact.split('-')[0] ?? '';
  return country === 'us' || /^\d{5}$/.test(beforeDash) ? beforeDash.slice(0, 5) : beforeDash;
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
 * A member as one Meta row: the first email (or the profile's `email_sha256` when it has no plain email), phone
 * and device id, names, city, state, ZIP and country from the traits, and the brand's `user_id` as `EXTERN_ID`.
 * Null when the member has none of the keys Meta matches on by itself (EMAIL, PHONE, MADID, EXTERN_ID).
 */
export function toMetaItem(member: ActivationMember): MetaItem | null {
  const first = (type: string) => member.identifiers.find((i) => i.type === type && i.value.trim() !== '')?.value;
  const item: MetaItem = {};
  const email = first('email');
  const emailHash = first('email_sha256')?.trim().toLowerCase();
  if (email) item.EMAIL = sha256Hex(normalizeEmail(email));
  else if (emailHash && isSha256Hex(emailHash)) item.EMAIL = emailHash;
  const phone = first('phone');
  if (phone && normalizePhone(phone)) item.PHONE = sha256Hex(normalizePhone(phone));
  const madid = first('device_id');
  if (madid && normalizeMadid(madid)) item.MADID = normalizeMadid(madid);
  const externId = first('user_id');
  if (externId) item.EXTERN_ID = externId.trim();
  if (!item.EMAIL && !item.PHONE && !item.MADID && !item.EXTERN_ID) return null;

  const country = normalizeCountry(text(member.traits.country) ?? '');
  const hashed = (key: MetaKey, value: string) => {
    if (value) item[key] = sha256Hex(value);
  };
  hashed('FN', normalizeName(text(member.traits.firstName) ?? ''));
  hashed('LN', normalizeName(text(member.traits.lastName) ?? ''));
  hashed('ZIP', normalizeZip(text(member.traits.postalCode) ?? '', country));
  hashed('CT', normalizeCity(text(member.traits.city) ?? ''));
  hashed('ST', normalizeState(text(member.traits.state) ?? ''));
  hashed('COUNTRY', country);
  return item;
}

/** The `data` row of an item, aligned with `META_SCHEMA` (blank for an unknown key, as Meta asks). */
export function metaRow(item: MetaItem): string[] {
  return META_SCHEMA.map((key) => item[key] ?? '');
}
