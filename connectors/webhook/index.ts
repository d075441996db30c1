import { createHmac, randomUUID } from 'node:crypto';
import {
  ConfigField,
  defineDestination,
  IDENTIFIER_TYPES,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  MinLength,
  Min,
  requestsPerSecond,
  sendInChunks,
  type ActivationMember,
  type AudienceRef,
  type ConnectorContext,
} from '@plexus/sdk';

export class WebhookConfig {
  @ConfigField({ description: 'The HTTPS endpoint that receives the deliveries' })
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  url!: string;

  @ConfigField({ description: 'Shared secret of the HMAC-SHA256 signature (at least 16 characters)' })
  @IsString()
  @MinLength(16)
  secret!: string;

  @ConfigField({
    description: 'Requests per second Plexus allows itself; a fraction spaces requests evenly',
    default: 10,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(1000)
  requestsPerSecond?: number;
}

/** One member as delivered: the profile id, its identifiers and traits, as Plexus holds them. */
export type WebhookItem = Pick<ActivationMember, 'profileId' | 'identifiers' | 'traits'>;

export const SIGNATURE_HEADER = 'X-Plexus-Signature';
export const TIMESTAMP_HEADER = 'X-Plexus-Timestamp';
export const DELIVERY_HEADER = 'X-Plexus-Delivery';
export const WEBHOOK_MAX_ITEMS = 500;

/**
 * `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the timestamp (Unix seconds, also in `X-Plexus-Timestamp`) is
 * signed with the body, so a receiver that refuses old timestamps and seen delivery ids cannot be replayed to.
 */
export function signDelivery(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

type Ctx = ConnectorContext<WebhookConfig>;

async function deliver(ctx: Ctx, payload: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ id, ...payload, sentAt: new Date(timestamp * 1000).toISOString() });
  await ctx.http.post('', body, {
    headers: {
      'Content-Type': 'application/json',
      [SIGNATURE_HEADER]: signDelivery(ctx.config.secret, timestamp, body),
      [TIMESTAMP_HEADER]: String(timestamp),
      [DELIVERY_HEADER]: id,
    },
  });
  return id;
}

function changesOf(type: 'entered' | 'exited', items: WebhookItem[]) {
  return items.map((item) => ({ type, ...item }));
}

/**
 * A generic JSON webhook for anything else: the entered and exited members of an audience, signed with
 * HMAC-SHA256 over the timestamp and the body. See README.md.
 */
export default defineDestination<WebhookConfig, WebhookItem>({
  id: 'webhook',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'Webhook',
  description: 'Signed JSON deliveries of audience entries and exits to any HTTPS endpoint',
  config: WebhookConfig,
  secrets: ['secret'],
  rateLimit: (config) => requestsPerSecond((config as WebhookConfig).requestsPerSecond ?? 10),
  http: { baseUrl: (config) => (config as WebhookConfig).url },
  identifiers: [...IDENTIFIER_TYPES],
  accepts: [...IDENTIFIER_TYPES],
  purpose: 'ads',
  batch: { maxItems: WEBHOOK_MAX_ITEMS },

  async check(ctx) {
    await deliver(ctx, { type: 'ping' });
  },

  async ensureAudience(_ctx, audience) {
    return { externalId: audience.externalId ?? audience.id };
  },

  toItem: (member) => ({ profileId: member.profileId, identifiers: member.identifiers, traits: member.traits }),

  /** One delivery carries both entries and exits (up to 500 of each), so the receiver sees them in one step. */
  async write(ctx, audience: AudienceRef & { externalId: string }, { adds, removes }) {
    // The activation's id tells apart two destinations that post the same audience to one receiver.
    const ref = {
      id: audience.id,
      name: audience.name,
      externalId: audience.externalId,
      activationId: audience.activationId,
    };
    const pairs = Array.from(
      { length: Math.ceil(Math.max(adds.length, removes.length) / WEBHOOK_MAX_ITEMS) },
      (_, i) => i,
    );
    const sent = await sendInChunks(pairs, 1, async ([page]) => {
      const entered = adds.slice(page * WEBHOOK_MAX_ITEMS, (page + 1) * WEBHOOK_MAX_ITEMS);
      const exited = removes.slice(page * WEBHOOK_MAX_ITEMS, (page + 1) * WEBHOOK_MAX_ITEMS);
      const id = await deliver(ctx, {
        type: 'audience.changes',
        audience: ref,
        changes: [...changesOf('entered', entered), ...changesOf('exited', exited)],
      });
      const requests = [
        ...(entered.length ? [{ operation: 'add' as const, items: entered.length, requestId: id }] : []),
        ...(exited.length ? [{ operation: 'remove' as const, items: exited.length, requestId: id }] : []),
      ];
      return { verdicts: [{ ok: true as const }], requests };
    });
    // One verdict per delivery: spread it over the items that delivery carried.
    const verdictOf = (index: number) => sent.verdicts[Math.floor(index / WEBHOOK_MAX_ITEMS)];
    return {
      adds: adds.map((_, i) => verdictOf(i)),
      removes: removes.map((_, i) => verdictOf(i)),
      requests: sent.requests,
    };
  },
});
