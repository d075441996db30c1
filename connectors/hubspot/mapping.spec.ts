import { ConfigurationError } from '@plexus/sdk';
import { mapContact, type HubSpotContact } from './mapping.js';
import { explainHubSpotError, hubspotThrottleDelay, MIN_DAILY_RETRY_MS } from './policy.js';

const contact = (properties: Record<string, string | null> | null): HubSpotContact => ({
  id: '42',
  properties,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-02-01T10:00:00.000Z',
  archived: false,
});

describe('HubSpot contact mapping', () => {
  it('maps identifiers, traits, consent and the observation time', () => {
    const mapped = mapContact(
      {
        ...contact({
          email: ' Ada@Acme.io ',
          hs_additional_emails: 'ada.l@acme.io;ada@acme.io',
          phone: '+44 20 7946 0958',
          mobilephone: '+44 20 7946 0958',
          firstname: 'Ada',
          lastname: '',
          lifecyclestage: 'customer',
          hs_lead_status: 'OPEN',
          company: null,
          country: 'gb',
          hs_email_optout: 'true',
          member_no: 'M-7',
          lastmodifieddate: '2025-02-01T10:00:00.000Z',
        }),
        company: { id: '9', name: 'Acme', domain: 'acme.io' },
      },
      { sourceId: 'src_1', userIdProperty: 'member_no' },
    );
    expect(mapped).toEqual({
      identifiers: [
        { type: 'email', value: 'Ada@Acme.io' },
        { type: 'email', value: 'ada.l@acme.io' },
        { type: 'phone', value: '+44 20 7946 0958' },
        { type: 'user_id', value: 'M-7' },
        { type: 'external_id', value: 'src_1:contact:42' },
      ],
      traits: {
        firstName: 'Ada',
        lifecycleStage: 'customer',
        leadStatus: 'OPEN',
        company: 'Acme',
        companyName: 'Acme',
        companyDomain: 'acme.io',
        country: 'gb',
      },
      consent: { email: false },
      country: 'GB',
      observedAt: '2025-02-01T10:00:00.000Z',
    });
  });

  it('leaves out the traits of properties whose value Plexus wrote there itself', () => {
    const mapped = mapContact(
      {
        ...contact({ email: 'ada@acme.io', firstname: 'Ada', jobtitle: 'CTO', company: 'Acme Ltd' }),
        company: { id: '9', name: 'Acme', domain: 'acme.io' },
        writtenByPlexus: ['firstname', 'company'],
      },
      { sourceId: 's' },
    );
    // The company trait falls back to the associated company, which HubSpot itself reports.
    expect(mapped.traits).toEqual({ jobTitle: 'CTO', company: 'Acme', companyName: 'Acme', companyDomain: 'acme.io' });
    expect(mapped.identifiers).toContainEqual({ type: 'email', value: 'ada@acme.io' });
  });

  it('rejects malformed contacts with the reason', () => {
    expect(() => mapContact(contact(null), { sourceId: 's' })).toThrow('contact 42: properties are missing (null)');
    expect(() =>
      mapContact({ ...contact({ lastmodifieddate: 'not-a-date' }), updatedAt: 'x' }, { sourceId: 's' }),
    ).toThrow(/lastmodifieddate\/updatedAt is not a date/);
    expect(() => mapContact(contact({ email: 42 as never }), { sourceId: 's' })).toThrow(/email is not a string/);
  });
});

describe('HubSpot HTTP policy', () => {
  it('waits briefly for burst limits and until midnight UTC (at least 15 minutes) for the daily one', () => {
    expect(hubspotThrottleDelay({ policyName: 'SECONDLY' })).toBe(250);
    expect(hubspotThrottleDelay({ policyName: 'TEN_SECONDLY_ROLLING' })).toBe(500);
    const now = Date.UTC(2025, 0, 1, 20, 0, 0);
    expect(hubspotThrottleDelay({ policyName: 'DAILY' }, now)).toBe(4 * 3_600_000);
    expect(hubspotThrottleDelay({ policyName: 'DAILY' }, Date.UTC(2025, 0, 1, 23, 59))).toBe(MIN_DAILY_RETRY_MS);
  });

  it('says what to fix when the token is rejected', () => {
    const generic = new ConfigurationError(
      'credentials rejected (401) by api.hubapi.com (The OAuth token used to make this call expired): check the accessToken setting',
      { status: 401 },
    );
    const explained = explainHubSpotError(generic) as ConfigurationError;
    expect(explained.failureType).toBe('config');
    expect(explained.message).toMatch(
      /^HubSpot rejected the access token \(401\) \(The OAuth token used to make this call expired\): check the accessToken setting — the private app token/,
    );
  });
});
