import { isIP } from 'node:net';
import type { Identifier, ProfileRecord, TraitValue } from '@plexus/sdk';
import { DEFAULTS, type DmpFeedConfig } from './config.js';

/** One row of a feed file as read: which file, which line, the parsed row or why it could not be parsed. */
export interface FeedRecord {
  file: string;
  line: number;
  row?: Record<string, unknown>;
  error?: string;
}

const DAY_MS = 86_400_000;
const ZERO_UUID = /^0{8}-?0{4}-?0{4}-?0{4}-?0{12}$/;

/**
 * An IP as analytics tools keep it: the last IPv4 octet zeroed, the last 80 bits of IPv6 zeroed. Undefined for
 * something that is not an IP.
 *
 * @example truncateIp('203.0.113.57') // '203.0.113.0'
 * @example truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348') // '2001:db8:85a3::'
 */
export function truncateIp(value: string): string | undefined {
  const ip = value.trim();
  const kind = isIP(ip);
  if (kind === 4) return ip.replace(/\.\d+$/, '.0');
  if (kind !== 6) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `::ffff:${truncateIp(mapped[1])}`;
  const [head, tail = ''] = ip.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...headParts, ...Array<string>(8 - headParts.length - tailParts.length).fill('0'), ...tailParts]
    : headParts;
  // Keep the first 48 bits (three groups); zero the other 80.
  const kept = groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16));
  return `${kept.join(':').replace(/(^|:)0(:0)*$/, '')}::`;
}

function cell(row: Record<string, unknown>, column: string): string | undefined {
  const value = row[column];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** ISO-8601, or epoch seconds / milliseconds (numbers or digit strings). */
function parseTime(value: unknown): Date | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{9,13}$/.test(value.trim()))) {
    const n = Number(value);
    const date = new Date(n < 1e11 ? n * 1000 : n);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value !== 'string') return undefined;
  const date = new Date(value.trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A segment name as a trait name: lower-case letters, digits and underscores. */
export function segmentKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The column names in force: the defaults, overridden by the names the config sets. A validated config's `columns`
 * is a class instance whose unset fields exist as `undefined`, so a plain spread would erase the defaults.
 */
function columnNames(config: DmpFeedConfig): Record<keyof typeof DEFAULTS.columns, string> {
  const out: Record<string, string> = { ...DEFAULTS.columns };
  for (const [key, value] of Object.entries(config.columns ?? {})) if (typeof value === 'string') out[key] = value;
  return out;
}

const YES = new Set(['true', 'yes', 'y', '1']);
const NO = new Set(['false', 'no', 'n', '0']);

interface Membership {
  name: string;
  at?: Date;
}

/** Segments as a separated string (CSV), an array of names, or an array of `{ id|name, timestamp|ts|seen_at }`. */
function memberships(value: unknown, separator: string, where: string): Membership[] {
  if (value === undefined || value === null || value === '') return [];
  const items: unknown[] = Array.isArray(value) ? value : typeof value === 'string' ? value.split(separator) : [value];
  const out: Membership[] = [];
  for (const item of items) {
    if (typeof item === 'string' || typeof item === 'number') {
      const name = segmentKey(String(item));
      if (name) out.push({ name });
    } else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      const raw = o.id ?? o.name ?? o.segment;
      const name = typeof raw === 'string' || typeof raw === 'number' ? segmentKey(String(raw)) : '';
      if (!name) throw new Error(`${where}: a segment without a name: ${JSON.stringify(item)}`);
      const stamp = o.timestamp ?? o.ts ?? o.seen_at;
      const at = stamp === undefined ? undefined : parseTime(stamp);
      if (stamp !== undefined && !at)
        throw new Error(`${where}: segment ${name} has a bad time: ${JSON.stringify(stamp)}`);
      out.push({ name, at });
    } else {
      throw new Error(`${where}: segments must be names: ${JSON.stringify(value)}`);
    }
  }
  return out;
}

/**
 * Maps one feed row to an anonymous profile record: `cookie_id`, `device_id` and `email_sha256` identifiers
 * observed at the row's time (the identity rules' time to live runs from there), each segment as a trait
 * `<prefix><segment>: true` expiring `segmentTtlDays` after it was observed, and the IP, truncated, as the trait
 * `ip` (never an identifier), and the advertising consent the DMP collected (`ads_consent`) as consent for `ads`
 * (a row without it grants and refuses nothing). A zeroed IDFA/GAID means the user limited ad tracking: it is dropped, the row keeps
 * its other identifiers, and a row with nothing else is refused. Throws (→ quarantine) with the file and line.
 */
export function mapFeedRow(record: FeedRecord, config: DmpFeedConfig, now = Date.now()): ProfileRecord {
  const where = `${record.file} line ${record.line}`;
  if (record.error !== undefined || !record.row) throw new Error(`${where}: ${record.error ?? 'empty row'}`);
  const row = record.row;
  const columns = columnNames(config);

  const rawTime = row[columns.timestamp];
  let observed: Date | undefined;
  if (rawTime !== undefined && rawTime !== null && rawTime !== '') {
    observed = parseTime(rawTime);
    if (!observed) throw new Error(`${where}: ${columns.timestamp} is not a time: ${JSON.stringify(rawTime)}`);
  }

  const identifiers: Identifier[] = [];
  const notes: string[] = [];
  const cookie = cell(row, columns.cookieId);
  if (cookie) identifiers.push({ type: 'cookie_id', value: cookie });
  const device = cell(row, columns.deviceId);
  if (device && ZERO_UUID.test(device)) notes.push(`${columns.deviceId} is zeroed (ad tracking limited)`);
  else if (device) identifiers.push({ type: 'device_id', value: device });
  const hashed = cell(row, columns.emailSha256);
  if (hashed) identifiers.push({ type: 'email_sha256', value: hashed });
  if (identifiers.length === 0) {
    throw new Error(`${where}: no usable identifier${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }

  const traits: Record<string, TraitValue> = {};
  const traitExpiry: Record<string, string> = {};
  const ip = cell(row, columns.ip);
  const truncated = ip === undefined ? undefined : truncateIp(ip);
  if (truncated) traits.ip = truncated;
  const prefix = config.segmentTraitPrefix ?? DEFAULTS.segmentTraitPrefix;
  const ttlMs = (config.segmentTtlDays ?? DEFAULTS.segmentTtlDays) * DAY_MS;
  const separator = config.segmentSeparator ?? DEFAULTS.segmentSeparator;
  for (const segment of memberships(row[columns.segments], separator, where)) {
    const trait = `${prefix}${segment.name}`;
    const at = (segment.at ?? observed)?.getTime() ?? now;
    const expires = new Date(at + ttlMs).toISOString();
    // The same segment twice in a row: the later observation decides.
    if (traitExpiry[trait] === undefined || traitExpiry[trait] < expires) {
      traits[trait] = true;
      traitExpiry[trait] = expires;
    }
  }

  const result: ProfileRecord = { identifiers, traits };
  const consent = cell(row, columns.adsConsent);
  if (consent !== undefined) {
    const answer = consent.toLowerCase();
    if (!YES.has(answer) && !NO.has(answer))
      throw new Error(
        `${where}: ${columns.adsConsent} must be true or false, got ${JSON.stringify(row[columns.adsConsent])}`,
      );
    result.consent = { ads: YES.has(answer) };
  }
  if (Object.keys(traitExpiry).length > 0) result.traitExpiry = traitExpiry;
  if (observed) result.observedAt = observed.toISOString();
  return result;
}
