import { call } from '../../support/http.js';
import { startGoogle, type GoogleEmulator } from './google.emulator.js';

const TOKEN = 'ya29.token';
const ACCOUNT = '1234567890';
const HASH = 'a'.repeat(64);
let google: GoogleEmulator;
const auth = { authorization: `Bearer ${TOKEN}` };
const destination = { operatingAccount: { accountId: ACCOUNT, accountType: 'GOOGLE_ADS' }, productDestinationId: '42' };
const ingestBody = (audienceMembers: unknown[], extra: Record<string, unknown> = {}) => ({
  destinations: [destination],
  audienceMembers,
  encoding: 'HEX',
  termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' },
  ...extra,
});
const ingest = (body: unknown, path = 'ingest') =>
  call(google.url, 'POST', `/v1/audienceMembers:${path}`, { body, headers: auth });
const member = (...userIdentifiers: unknown[]) => ({ userData: { userIdentifiers } });

beforeAll(async () => {
  google = await startGoogle({
    tokens: [TOKEN],
    accounts: { [ACCOUNT]: ['42'] },
    rateLimit: { max: 1000, windowMs: 1000 },
  });
});
afterAll(() => google.close());
afterEach(() => google.faults.clear());

describe('Google Data Manager emulator: the documented contract', () => {
  it('ingests and removes members, answering a requestId', async () => {
    const address = { givenName: HASH, familyName: 'b'.repeat(64), regionCode: 'US', postalCode: '94043' };
    const res = await ingest(
      ingestBody([
        { ...member({ emailAddress: HASH }, { address }), consent: { adUserData: 'CONSENT_GRANTED' } },
        member({ phoneNumber: 'c'.repeat(64) }),
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(google.state.members(ACCOUNT, '42')).toHaveLength(2);
    expect(google.state.member(ACCOUNT, '42', `email:${HASH}`)?.consent).toEqual({ adUserData: 'CONSENT_GRANTED' });
    const removed = await ingest(
      { destinations: [destination], audienceMembers: [member({ phoneNumber: 'c'.repeat(64) })], encoding: 'HEX' },
      'remove',
    );
    expect(removed.status).toBe(200);
    expect(google.state.members(ACCOUNT, '42')).toHaveLength(1);
  });

  it('validates without applying when validateOnly is set', async () => {
    const res = await ingest(ingestBody([member({ emailAddress: 'd'.repeat(64) })], { validateOnly: true }));
    expect(res.status).toBe(200);
    expect(google.state.member(ACCOUNT, '42', `email:${'d'.repeat(64)}`)).toBeUndefined();
  });

  it.each([
    ['an upper-case hash', member({ emailAddress: HASH.toUpperCase() }), /not a SHA-256 hash/],
    ['a clear-text email', member({ emailAddress: 'ada@example.com' }), /not a SHA-256 hash/],
    ['two keys in one identifier', member({ emailAddress: HASH, phoneNumber: HASH }), /Exactly one of/],
    [
      'a hashed postal code',
      member({ address: { givenName: HASH, familyName: HASH, regionCode: 'US', postalCode: HASH } }),
      /must not be hashed/,
    ],
    [
      'a hashed region code',
      member({ address: { givenName: HASH, familyName: HASH, regionCode: HASH, postalCode: '1' } }),
      /region_code/,
    ],
    [
      'a clear given name',
      member({ address: { givenName: 'ada', familyName: HASH, regionCode: 'US', postalCode: '1' } }),
      /given_name/,
    ],
    ['11 identifiers', member(...Array.from({ length: 11 }, () => ({ emailAddress: HASH }))), /At most 10/],
    [
      'an invalid consent value',
      { ...member({ emailAddress: HASH }), consent: { adUserData: 'YES' } },
      /Invalid value/,
    ],
  ])('rejects %s with a field violation naming the member', async (_label, bad, description) => {
    const res = await ingest(ingestBody([member({ emailAddress: 'e'.repeat(64) }), bad]));
    expect(res.status).toBe(400);
    expect(res.body.error.status).toBe('INVALID_ARGUMENT');
    const violations = res.body.error.details.find(
      (d: { fieldViolations?: unknown }) => d.fieldViolations,
    ).fieldViolations;
    expect(violations[0].field).toMatch(/^audience_members\[1\]/);
    expect(violations[0].description).toMatch(description);
    expect(google.state.member(ACCOUNT, '42', `email:${'e'.repeat(64)}`)).toBeUndefined(); // nothing applied
  });

  it.each([
    ['no terms of service', { termsOfService: undefined }, /terms of service/],
    ['no encoding', { encoding: undefined }, /encoding/],
    ['an unknown field', { audienceMembersX: [] }, /Unknown name \\"audienceMembersX\\"/],
    [
      'an account id with dashes',
      {
        destinations: [{ ...destination, operatingAccount: { accountId: '123-456-7890', accountType: 'GOOGLE_ADS' } }],
      },
      /10-digit/,
    ],
  ])('rejects a request with %s', async (_label, extra, message) => {
    const res = await ingest(ingestBody([member({ emailAddress: HASH })], extra));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toMatch(message);
  });

  it('refuses terms of service on a removal (not a field of the remove request) and more than 10,000 members', async () => {
    const withTerms = await ingest(ingestBody([member({ emailAddress: HASH })]), 'remove');
    expect(withTerms.body.error.message).toMatch(/Unknown name "termsOfService"/);
    const tooMany = await ingest(ingestBody(Array.from({ length: 10_001 }, () => member({ emailAddress: HASH }))));
    expect(tooMany.body.error.message).toMatch(/At most 10000/);
  });

  it('answers auth, permission, unknown lists and throttling in google.rpc terms', async () => {
    const bad = await call(google.url, 'POST', '/v1/audienceMembers:ingest', {
      body: {},
      headers: { authorization: 'Bearer x' },
    });
    expect(bad.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
    const other = await ingest(
      ingestBody([member({ emailAddress: HASH })], {
        destinations: [{ ...destination, operatingAccount: { accountId: '9999999999', accountType: 'GOOGLE_ADS' } }],
      }),
    );
    expect(other.body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    const missing = await ingest(
      ingestBody([member({ emailAddress: HASH })], { destinations: [{ ...destination, productDestinationId: '7' }] }),
    );
    expect(missing.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    const tight = await startGoogle({
      tokens: [TOKEN],
      accounts: { [ACCOUNT]: ['42'] },
      rateLimit: { max: 1, windowMs: 60_000 },
      retryDelay: '30s',
    });
    try {
      await call(tight.url, 'POST', '/v1/audienceMembers:ingest', {
        body: ingestBody([member({ emailAddress: HASH })]),
        headers: auth,
      });
      const throttled = await call(tight.url, 'POST', '/v1/audienceMembers:ingest', {
        body: ingestBody([member({ emailAddress: HASH })]),
        headers: auth,
      });
      expect(throttled.status).toBe(429);
      expect(throttled.body.error.status).toBe('RESOURCE_EXHAUSTED');
      expect(throttled.body.error.details).toContainEqual(expect.objectContaining({ retryDelay: '30s' }));
    } finally {
      await tight.close();
    }
  });
});
