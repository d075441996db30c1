import { validateConfig, type DestinationDefinition } from '@plexus/sdk';
import google, { GoogleCustomerMatchConfig } from '../../connectors/google-customer-match/index.js';
import meta, { MetaCustomAudiencesConfig } from '../../connectors/meta-custom-audiences/index.js';
import ttd, { TheTradeDeskConfig } from '../../connectors/the-trade-desk/index.js';
import tiktok, { TikTokAudiencesConfig } from '../../connectors/tiktok-audiences/index.js';
import webhook, { WebhookConfig } from '../../connectors/webhook/index.js';

const BASE = 'http://127.0.0.1:9';
/** Each ad platform destination and the webhook, with a configuration that validates but for the rate. */
const destinations: Array<[string, DestinationDefinition<any, any>, new () => object, Record<string, unknown>]> = [
  ['meta-custom-audiences', meta, MetaCustomAudiencesConfig, { accessToken: 't', adAccountId: '1000', baseUrl: BASE }],
  [
    'google-customer-match',
    google,
    GoogleCustomerMatchConfig,
    {
      accessToken: 't',
      operatingAccountId: '1234567890',
      userListId: '5550001',
      customerMatchTermsAccepted: true,
      baseUrl: BASE,
    },
  ],
  ['tiktok-audiences', tiktok, TikTokAudiencesConfig, { accessToken: 't', advertiserId: '7000', baseUrl: BASE }],
  ['the-trade-desk', ttd, TheTradeDeskConfig, { advertiserId: 'adv1', secretKey: 'k'.repeat(16), baseUrl: BASE }],
  ['webhook', webhook, WebhookConfig, { url: `${BASE}/hook`, secret: 's'.repeat(16) }],
];

describe.each(destinations)('%s: requestsPerSecond', (_name, definition, configClass, base) => {
  const budget = async (requestsPerSecond: unknown) => {
    const { config, problems } = await validateConfig(configClass, { ...base, requestsPerSecond });
    if (!config) return problems.map((p) => p.field);
    return typeof definition.rateLimit === 'function' ? definition.rateLimit(config) : definition.rateLimit;
  };

  it('takes a whole number as that many a second, and a fraction as one request every 1000 / rate ms', async () => {
    expect(await budget(3)).toEqual({ requests: 3, perMs: 1000 });
    expect(await budget(1.5)).toEqual({ requests: 1, perMs: 667 });
    expect(await budget(0.25)).toEqual({ requests: 1, perMs: 4000 });
  });

  it('refuses none, a negative rate, more than 1,000 and text, naming the field', async () => {
    for (const rate of [0, -2, 1001, 'fast']) expect(await budget(rate)).toEqual(['requestsPerSecond']);
  });
});
