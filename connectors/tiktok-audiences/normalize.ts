import { isSha256Hex, isZeroedDeviceId, sha256Hex, type ActivationMember } from '@plexus/sdk';

/** The id types Plexus sends, in this order: TikTok's `id_schema` on every request. */
export const TIKTOK_SCHEMA = ['EMAIL_SHA256', 'PHONE_SHA256', 'IDFA_SHA256', 'AAID_SHA256'] as const;
export type TikTokIdType = (typeof TIKTOK_SCHEMA)[number];
/** One user: the SHA-256 (lower-case hex) of each normalised identifier TikTok takes, or absent. */
export type TikTokItem = Partial<Record<TikTokIdType, string>>;

/** Email: trimmed, lower-cased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** Phone: E.164 with `+` and the country code (`+1 (213) 373-4253` → `+12133734253`). */
export function normalizePhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').replace(/^00/, '');
  return digits.length >= 8 ? `+${digits}` : '';
}

/** IDFA/GAID: trimmed, lower-cased; the zeroed id of a device that does not allow tracking is dropped. */
export function normalizeDeviceId(id: string): string {
  const value = id.trim().toLowerCase();
  return value === '' || isZeroedDeviceId(value) ? '' : value;
}

/**
 * A member as one TikTok user: the first email (or the profile's `email_sha256`), phone and device id. Plexus
 * does not know whether a device id is an IDFA or a GAID unless the `os` (or `platform`) trait says `ios` or
 * `android`; without it the id goes in both columns (the wrong one simply does not match). Null when none.
 */
export function toTikTokItem(member: ActivationMember): TikTokItem | null {
  const first = (type: string) => member.identifiers.find((i) => i.type === type && i.value.trim() !== '')?.value;
  const item: TikTokItem = {};
  const email = first('email');
  const emailHash = first('email_sha256')?.trim().toLowerCase();
  if (email) item.EMAIL_SHA256 = sha256Hex(normalizeEmail(email));
  else if (emailHash && isSha256Hex(emailHash)) item.EMAIL_SHA256 = emailHash;
  const phone = normalizePhone(first('phone') ?? '');
  if (phone) item.PHONE_SHA256 = sha256Hex(phone);
  const device = normalizeDeviceId(first('device_id') ?? '');
  if (device) {
    const trait = member.traits.os ?? member.traits.platform;
    const os = typeof trait === 'string' ? trait.toLowerCase() : '';
    if (!os.includes('android')) item.IDFA_SHA256 = sha256Hex(device);
    if (!os.includes('ios')) item.AAID_SHA256 = sha256Hex(device);
  }
  return Object.keys(item).length > 0 ? item : null;
}
