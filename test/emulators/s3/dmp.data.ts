import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { noise, pick, syntheticPerson } from '../common/table.js';

const SEGMENTS = ['sports_fans', 'travel_intenders', 'auto_in_market', 'parents', 'luxury_shoppers', 'gamers'] as const;

/**
 * Synthetic DMP feed files: `days` daily drops, alternating CSV, NDJSON and gzipped CSV, each with
 * `rowsPerDay` anonymous rows (cookie id, IDFA/GAID, hashed email for some, IP, segments, timestamp).
 * Row r of day d is person `(d * rowsPerDay + r) % people`, so hashed emails match the other generators'.
 */
export function syntheticDmpFiles(
  options: { days?: number; rowsPerDay?: number; people?: number; start?: Date } = {},
): Record<string, Buffer> {
  const days = options.days ?? 3;
  const perDay = options.rowsPerDay ?? 100;
  const people = options.people ?? 1_000;
  const start = (options.start ?? new Date(Date.UTC(2024, 4, 1))).getTime();
  const files: Record<string, Buffer> = {};
  for (let d = 0; d < days; d++) {
    const day = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    const rows = Array.from({ length: perDay }, (_, r) => {
      const i = (d * perDay + r) % people;
      const person = syntheticPerson(i);
      const hex = createHash('sha256').update(person.email).digest('hex');
      return {
        cookie_id: `c-${hex.slice(0, 16)}`,
        device_id: noise(i, 61) < 0.3 ? uuidFrom(hex) : null,
        email_sha256: noise(i, 62) < 0.5 ? hex : null,
        ip: `203.0.113.${i % 250}`,
        segments: [pick(SEGMENTS, i, 63), pick(SEGMENTS, i + d, 64)].filter((s, k, all) => all.indexOf(s) === k),
        seen_at: new Date(start + d * 86_400_000 + r * 1_000).toISOString(),
      };
    });
    if (d % 3 === 1) {
      files[`dmp/${day}.ndjson`] = Buffer.from(rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    } else {
      const csv = [
        'cookie_id,device_id,email_sha256,ip,segments,seen_at',
        ...rows.map((row) =>
          [
            row.cookie_id,
            row.device_id ?? '',
            row.email_sha256 ?? '',
            row.ip,
            row.segments.join('|'),
            row.seen_at,
          ].join(','),
        ),
      ].join('\n');
      files[d % 3 === 0 ? `dmp/${day}.csv` : `dmp/${day}.csv.gz`] =
        d % 3 === 0 ? Buffer.from(csv + '\n') : gzipSync(csv + '\n');
    }
  }
  return files;
}

function uuidFrom(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
