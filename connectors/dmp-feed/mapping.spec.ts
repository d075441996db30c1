import { DmpColumns, DmpFeedConfig } from './config.js';
import { mapFeedRow, segmentKey, truncateIp } from './mapping.js';

const config = {} as DmpFeedConfig;
const row = (r: Record<string, unknown>, line = 2) => ({ file: 'dmp/2026-05-01.csv', line, row: r });

describe('dmp-feed mapping', () => {
  it('maps identifiers observed at the row time, segments with expiry, and the truncated IP', () => {
    expect(
      mapFeedRow(
        row({
          cookie_id: 'c-1',
          device_id: '6D92078A-8246-4BA4-AE5B-76104861E7DC',
          email_sha256: 'A'.repeat(64),
          ip: '203.0.113.57',
          segments: 'seg_auto_intender|Travel Intenders',
          seen_at: '2026-05-01T10:00:00Z',
        }),
        config,
      ),
    ).toEqual({
      identifiers: [
        { type: 'cookie_id', value: 'c-1' },
        { type: 'device_id', value: '6D92078A-8246-4BA4-AE5B-76104861E7DC' },
        { type: 'email_sha256', value: 'A'.repeat(64) },
      ],
      traits: { ip: '203.0.113.0', segment_seg_auto_intender: true, segment_travel_intenders: true },
      traitExpiry: {
        segment_seg_auto_intender: '2026-07-30T10:00:00.000Z',
        segment_travel_intenders: '2026-07-30T10:00:00.000Z',
      },
      observedAt: '2026-05-01T10:00:00.000Z',
    });
  });

  it('honours the TTL, prefix, column names and per-segment times (NDJSON)', () => {
    const custom = {
      segmentTtlDays: 30,
      segmentTraitPrefix: 'dmp.',
      columns: { cookieId: 'uid', timestamp: 'ts' },
    } as DmpFeedConfig;
    const record = mapFeedRow(
      row({ uid: 'u1', ts: 1777629600, segments: ['gamers', { id: 'parents', timestamp: '2026-04-01T00:00:00Z' }] }),
      custom,
    );
    expect(record.traitExpiry).toEqual({
      'dmp.gamers': '2026-05-31T10:00:00.000Z',
      'dmp.parents': '2026-05-01T00:00:00.000Z',
    });
    expect(record.observedAt).toBe('2026-05-01T10:00:00.000Z');
  });

  it('keeps the default names of the columns a validated config leaves unset', () => {
    // class-transformer builds `columns` as a DmpColumns instance: its unset fields exist, as undefined.
    const validated = Object.assign(new DmpFeedConfig(), {
      columns: Object.assign(new DmpColumns(), { deviceId: 'idfa' }),
    });
    expect(Object.keys(validated.columns)).toContain('cookieId');
    const record = mapFeedRow(
      row({ cookie_id: 'c-9', idfa: '6d92078a-8246-4ba4-ae5b-76104861e7dc', segments: 'auto-intender' }),
      validated,
    );
    expect(record.identifiers).toEqual([
      { type: 'cookie_id', value: 'c-9' },
      { type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' },
    ]);
    expect(record.traits).toEqual({ segment_auto_intender: true });
  });

  it('drops a zeroed IDFA but keeps the row by its other identifiers; refuses a row with nothing else', () => {
    const zero = '00000000-0000-0000-0000-000000000000';
    expect(mapFeedRow(row({ cookie_id: 'c-2', device_id: zero }), config).identifiers).toEqual([
      { type: 'cookie_id', value: 'c-2' },
    ]);
    expect(() => mapFeedRow(row({ device_id: zero, ip: '10.0.0.1' }, 7), config)).toThrow(
      'dmp/2026-05-01.csv line 7: no usable identifier (device_id is zeroed (ad tracking limited))',
    );
  });

  it('never makes the IP an identifier; truncates IPv4 and IPv6 and drops garbage', () => {
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8::');
    expect(truncateIp('::1')).toBe('::');
    expect(truncateIp('::ffff:198.51.100.23')).toBe('::ffff:198.51.100.0');
    expect(truncateIp('not an ip')).toBeUndefined();
    const record = mapFeedRow(row({ cookie_id: 'c', ip: 'nope' }), config);
    expect(record.identifiers.map((i) => i.type)).toEqual(['cookie_id']);
    expect(record.traits).toEqual({});
  });

  it('refuses unreadable rows and bad times with the file and line', () => {
    expect(() => mapFeedRow({ file: 'f.csv', line: 3, error: 'Invalid Record Length' }, config)).toThrow(
      'f.csv line 3: Invalid Record Length',
    );
    expect(() => mapFeedRow(row({ cookie_id: 'c', seen_at: 'yesterday' }), config)).toThrow(
      /seen_at is not a time: "yesterday"/,
    );
  });

  it('reads the advertising consent the DMP collected; refuses a value that is not a yes or a no', () => {
    expect(mapFeedRow(row({ cookie_id: 'c', ads_consent: true }), config).consent).toEqual({ ads: true });
    expect(mapFeedRow(row({ cookie_id: 'c', ads_consent: 'No' }), config).consent).toEqual({ ads: false });
    expect(mapFeedRow(row({ cookie_id: 'c', gdpr_ok: 1 }), { columns: { adsConsent: 'gdpr_ok' } })).toMatchObject({
      consent: { ads: true },
    });
    expect(mapFeedRow(row({ cookie_id: 'c', ads_consent: '' }), config).consent).toBeUndefined();
    expect(mapFeedRow(row({ cookie_id: 'c' }), config).consent).toBeUndefined();
    expect(() => mapFeedRow(row({ cookie_id: 'c', ads_consent: 'maybe' }, 9), config)).toThrow(
      'dmp/2026-05-01.csv line 9: ads_consent must be true or false, got "maybe"',
    );
  });

  it('turns segment names into trait-safe keys', () => {
    expect(segmentKey(' Auto / In-Market ')).toBe('auto_in_market');
  });
});
