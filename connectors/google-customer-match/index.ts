import {
  ConfigurationError,
  defineDestination,
  requestsPerSecond,
  sha256Hex,
  sendInChunks,
  SystemError,
  verdictsForFailure,
  writeAddsThenRemoves,
  type ConnectorContext,
  type RequestReport,
  type Verdict,
} from '@plexus/sdk';
import { GoogleCustomerMatchConfig } from './config.js';
import { toGoogleItem, type GoogleItem } from './normalize.js';
import { googleHttpPolicy, rejectedMembers, rpcError } from './policy.js';

export { GoogleCustomerMatchConfig } from './config.js';
export * from './normalize.js';
export * from './policy.js';

/** The Data Manager API takes at most 10,000 audience members a request. */
export const GOOGLE_MAX_MEMBERS = 10_000;
type Ctx = ConnectorContext<GoogleCustomerMatchConfig>;
type Operation = 'ingest' | 'remove';

function destinationOf(config: GoogleCustomerMatchConfig, listId: string): Record<string, unknown> {
  const accountType = config.accountType ?? 'GOOGLE_ADS';
  return {
    operatingAccount: { accountId: config.operatingAccountId, accountType },
    ...(config.loginAccountId ? { loginAccount: { accountId: config.loginAccountId, accountType } } : {}),
    productDestinationId: listId,
  };
}

function bodyOf(config: GoogleCustomerMatchConfig, listId: string, operation: Operation, items: GoogleItem[]) {
  return {
    destinations: [destinationOf(config, listId)],
    // A removal names the people only; consent travels with additions.
    audienceMembers: items.map((item) =>
      operation === 'ingest' && item.consent
        ? { userData: { userIdentifiers: item.userIdentifiers }, consent: item.consent }
        : { userData: { userIdentifiers: item.userIdentifiers } },
    ),
    encoding: 'HEX',
    ...(operation === 'ingest' ? { termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' } } : {}),
  };
}

/**
 * One request of at most 10,000 items. Google validates a request before accepting any of it: when a 400 names
 * only members (`audience_members[i]`), those items are refused as `invalid` and the others are sent again once.
 */
async function sendChunk(
  ctx: Ctx,
  listId: string,
  operation: Operation,
  items: GoogleItem[],
  requests: RequestReport[],
): Promise<Verdict[]> {
  const response = await ctx.http.post<{ requestId?: string }>(
    `/v1/audienceMembers:${operation}`,
    bodyOf(ctx.config, listId, operation, items),
    { acceptStatus: [400] },
  );
  const kind = operation === 'ingest' ? 'add' : 'remove';
  if (response.status !== 400) {
    requests.push({ operation: kind, items: items.length, received: items.length, requestId: response.data.requestId });
    return items.map(() => ({ ok: true }));
  }
  const rejected = rejectedMembers(response.data);
  if (!rejected || rejected.size === 0) {
    throw new SystemError(
      `Google refused the request (400): ${rpcError(response.data)?.message ?? 'invalid argument'}`,
      {
        status: 400,
      },
    );
  }
  const samples = [...rejected.entries()].slice(0, 10).map(([index, reason]) => ({
    value: JSON.stringify(items[index]?.userIdentifiers[0] ?? null),
    reason,
  }));
  requests.push({
    operation: kind,
    items: rejected.size,
    received: 0,
    invalid: rejected.size,
    invalidSamples: samples,
  });
  const rest = items.map((_, i) => i).filter((i) => !rejected.has(i));
  const restVerdicts =
    rest.length === 0
      ? []
      : await sendChunk(
          ctx,
          listId,
          operation,
          rest.map((i) => items[i]),
          requests,
        );
  const verdicts: Verdict[] = new Array<Verdict>(items.length);
  rest.forEach((i, n) => (verdicts[i] = restVerdicts[n]));
  for (const [index, reason] of rejected) {
    verdicts[index] = { abort: `Google refused the member: ${reason}`, failureType: 'invalid' };
  }
  return verdicts;
}

function send(ctx: Ctx, listId: string, operation: Operation, items: GoogleItem[]) {
  return sendInChunks(items, GOOGLE_MAX_MEMBERS, async (chunk) => {
    const requests: RequestReport[] = [];
    const verdicts = await sendChunk(ctx, listId, operation, chunk, requests);
    return { verdicts, requests };
  });
}

/** Validates an upload to a user list without applying it: token, accounts, terms and the list itself. */
async function validateList(ctx: Ctx, listId: string): Promise<void> {
  await ctx.http.post('/v1/audienceMembers:ingest', {
    ...bodyOf(ctx.config, listId, 'ingest', [
      // validateOnly never applies it.
      { userIdentifiers: [{ emailAddress: sha256Hex('plexus-check@example.invalid') }] },
    ]),
    validateOnly: true,
  });
}

/**
 * Google Customer Match through the Data Manager API: hashed emails, phones and addresses added with
 * `audienceMembers:ingest` and removed with `audienceMembers:remove`, with the member's consent. See README.md.
 */
export default defineDestination<GoogleCustomerMatchConfig, GoogleItem>({
  id: 'google-customer-match',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'Google Customer Match',
  description: 'Customer Match user lists in Google Ads (Data Manager API)',
  config: GoogleCustomerMatchConfig,
  secrets: ['accessToken'],
  rateLimit: (config) => requestsPerSecond((config as GoogleCustomerMatchConfig).requestsPerSecond ?? 5),
  http: googleHttpPolicy,
  identifiers: ['email', 'email_sha256', 'phone'],
  accepts: ['email', 'email_sha256', 'phone'],
  purpose: 'ads',
  batch: { maxItems: GOOGLE_MAX_MEMBERS },

  async check(ctx) {
    if (!ctx.config.customerMatchTermsAccepted) {
      throw new ConfigurationError(
        'customerMatchTermsAccepted is false: the advertiser must accept the Customer Match terms of service (https://support.google.com/adspolicy/answer/6299717) before Plexus may upload',
      );
    }
    await validateList(ctx, ctx.config.userListId);
  },

  /** Google lists are created in Google Ads: the audience's list id (or the configured one) is checked, not created. */
  async ensureAudience(ctx, audience) {
    const listId = audience.externalId ?? ctx.config.userListId;
    await validateList(ctx, listId);
    return { externalId: listId };
  },

  toItem: toGoogleItem,

  write: (ctx, audience, { adds, removes }) =>
    writeAddsThenRemoves(
      adds,
      removes,
      // Removals need no terms of service; additions without them would be refused by Google.
      async (items) =>
        ctx.config.customerMatchTermsAccepted
          ? send(ctx, audience.externalId, 'ingest', items)
          : {
              verdicts: verdictsForFailure(
                new ConfigurationError('customerMatchTermsAccepted is false: accept the Customer Match terms first'),
                items.length,
              ),
              requests: [],
            },
      (items) => send(ctx, audience.externalId, 'remove', items),
    ),
});
