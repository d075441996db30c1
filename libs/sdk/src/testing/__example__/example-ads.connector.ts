import { createHash } from 'node:crypto';
import { defineDestination, IsString, IsUrl, verdictsForFailure, type ActivationMember } from '../../index.js';

export class ExampleAdsConfig {
  @IsUrl({ require_tld: false })
  baseUrl!: string;

  @IsString()
  token!: string;
}

/** One audience member the platform's way: the SHA-256 of the normalised email. */
export interface AdsItem {
  emailSha256: string;
}

/** A minimal destination: find-or-create audiences by key, add and remove hashed emails. */
export default defineDestination<ExampleAdsConfig, AdsItem>({
  id: 'example-ads',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'Example Ads',
  config: ExampleAdsConfig,
  secrets: ['token'],
  accepts: ['email', 'email_sha256'],
  purpose: 'ads',
  batch: { maxItems: 1000 },
  http: {
    baseUrl: (config) => (config as ExampleAdsConfig).baseUrl,
    authHeaders: (config) => ({ Authorization: `Bearer ${(config as ExampleAdsConfig).token}` }),
  },
  async check(ctx) {
    await ctx.http.get('/me');
  },
  async ensureAudience(ctx, audience) {
    const { data } = await ctx.http.put<{ id: string }>(`/audiences/${encodeURIComponent(audience.activationId)}`, {
      name: audience.name,
    });
    return { externalId: data.id };
  },
  toItem(member: ActivationMember): AdsItem | null {
    const hashed = member.identifiers.find((i) => i.type === 'email_sha256')?.value;
    const email = member.identifiers.find((i) => i.type === 'email')?.value;
    if (hashed) return { emailSha256: hashed };
    if (email) return { emailSha256: createHash('sha256').update(email.trim().toLowerCase()).digest('hex') };
    return null;
  },
  async write(ctx, audience, { adds, removes }) {
    try {
      await ctx.http.post(`/audiences/${audience.externalId}/members`, {
        add: adds.map((i) => i.emailSha256),
        remove: removes.map((i) => i.emailSha256),
      });
      return { adds: adds.map(() => ({ ok: true })), removes: removes.map(() => ({ ok: true })) };
    } catch (error) {
      return { adds: verdictsForFailure(error, adds.length), removes: verdictsForFailure(error, removes.length) };
    }
  },
});
