import { validateConfig } from '@plexus/sdk';
import { HubSpotDestinationConfig } from './config.js';
import { contactProperties, propertyValue, toContactItem } from './items.js';

describe('hubspot-destination items', () => {
  it('takes the first valid email, trimmed and lower-cased, with the member’s traits', () => {
    expect(
      toContactItem({
        profileId: 'p1',
        identifiers: [
          { type: 'phone', value: '+14155550100' },
          { type: 'email', value: 'not an email' },
          { type: 'email', value: ' Ada@Example.COM ' },
        ],
        traits: { firstName: 'Ada' },
      }),
    ).toEqual({ profileId: 'p1', email: 'ada@example.com', traits: { firstName: 'Ada' } });
    expect(toContactItem({ profileId: 'p2', identifiers: [{ type: 'user_id', value: 'u' }], traits: {} })).toBeNull();
  });

  it('writes every trait value as the string HubSpot stores', () => {
    expect(propertyValue('x')).toBe('x');
    expect(propertyValue(12.5)).toBe('12.5');
    expect(propertyValue(false)).toBe('false');
    expect(propertyValue(null)).toBe('');
    expect(propertyValue(['vip', null, 3])).toBe('vip;3');
    expect(propertyValue({ a: 1 })).toBe('{"a":1}');
  });

  it('maps only the traits the member has', () => {
    const item = { profileId: 'p', email: 'a@b.io', traits: { firstName: 'Ada', ltv: 10, constructor: 'x' } };
    expect(contactProperties(item, { firstName: 'firstname', ltv: 'plexus_ltv', city: 'city' })).toEqual({
      firstname: 'Ada',
      plexus_ltv: '10',
    });
  });

  it('refuses a properties mapping onto names HubSpot cannot have, naming the field', async () => {
    const { problems } = await validateConfig(HubSpotDestinationConfig, {
      accessToken: 't',
      properties: { firstName: 'First Name' },
    });
    expect(problems).toEqual([
      { field: 'properties', problems: [expect.stringContaining('HubSpot contact property names')] },
    ]);
    const ok = await validateConfig(HubSpotDestinationConfig, { accessToken: 't', properties: { ltv: 'plexus_ltv' } });
    expect(ok.problems).toEqual([]);
  });
});
