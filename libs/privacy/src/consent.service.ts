import { Injectable, Logger } from '@nestjs/common';
import type { ConsentPurpose } from '@plexus/sdk';
import { ConnectionService } from '@plexus/connectors';
import { InvalidInputError, NotFoundError } from '@plexus/errors';
import { inRetriedTransaction, ProfileChanges } from '@plexus/identity';
import { ConsentRepository, Database, ProfileRepository, type StoredConsent } from '@plexus/storage';
import { HoldingsLocator } from './holdings.locator.js';

/** The purposes an admin may set; `personalisation` is accepted for `personalization`. */
export const CONSENT_PURPOSE_NAMES: Record<string, ConsentPurpose> = {
  ads: 'ads',
  email: 'email',
  analytics: 'analytics',
  personalization: 'personalization',
  personalisation: 'personalization',
  sale: 'sale',
};

export interface ConsentView {
  profileId: string;
  consent: Record<string, { granted: boolean; sourceId: string; observedAt: Date }>;
  /** Purposes this change revoked. */
  revoked: string[];
  /**
   * Whether a removal was queued, and from which destinations: those holding the person whose purpose was revoked
   * (each removes them on its next delivery).
   */
  removal: { requested: boolean; destinations: string[] };
}

/**
 * Consent per purpose, set by an admin with its source and time. It is stored like consent from sources (the
 * latest observation wins), published as a profile change so audiences that require the purpose let the person
 * go, and a revocation has activation re-check the person: destinations of that purpose remove them on their next
 * delivery.
 */
@Injectable()
export class ConsentService {
  private readonly logger = new Logger('Consent');

  constructor(
    private readonly database: Database,
    private readonly consents: ConsentRepository,
    private readonly profiles: ProfileRepository,
    private readonly holdings: HoldingsLocator,
    private readonly connections: ConnectionService,
    private readonly changes: ProfileChanges,
  ) {}

  async set(
    profileId: string,
    purposes: Record<string, unknown>,
    source = 'api',
    observedAt: Date = new Date(),
  ): Promise<ConsentView> {
    const patch: Record<string, StoredConsent> = {};
    const problems: Array<{ field: string; problems: string[] }> = [];
    for (const [name, granted] of Object.entries(purposes)) {
      const purpose = CONSENT_PURPOSE_NAMES[name];
      if (!Object.hasOwn(CONSENT_PURPOSE_NAMES, name))
        problems.push({
          field: `purposes.${name}`,
          problems: [`unknown purpose (one of ${Object.keys(CONSENT_PURPOSE_NAMES).join(', ')})`],
        });
      else if (typeof granted !== 'boolean')
        problems.push({ field: `purposes.${name}`, problems: ['must be a boolean'] });
      else patch[purpose] = { g: granted, s: source, t: observedAt.getTime() };
    }
    if (problems.length > 0) throw InvalidInputError.fields(problems);
    if (Object.keys(patch).length === 0) throw InvalidInputError.field('purposes', 'must set at least one purpose');
    const live = await this.profiles.live(profileId);
    if (!live) throw new NotFoundError(`No profile ${profileId}`);
    const { consent, revoked } = await inRetriedTransaction(this.database, async (trx) => {
      const before = await this.consents.lockConsent(trx, live.id);
      if (!before) throw new NotFoundError(`No profile ${profileId}`);
      const revoked = Object.entries(patch)
        .filter(([purpose, c]) => !c.g && before[purpose]?.g !== false)
        .map(([purpose]) => purpose);
      return { consent: await this.consents.merge(trx, live.id, patch), revoked };
    });
    await this.changes.committed({ profileIds: [live.id], cause: 'consent' });
    const removal =
      revoked.length > 0 ? await this.removeFor(live.id, revoked) : { requested: false, destinations: [] };
    const view: ConsentView['consent'] = {};
    for (const [purpose, c] of Object.entries(consent))
      view[purpose] = { granted: c.g, sourceId: c.s, observedAt: new Date(c.t) };
    return { profileId: live.id, consent: view, revoked, removal };
  }

  /**
   * Has activation re-check the person where they are held when one of those destinations serves a revoked
   * purpose: its own eligibility check (consent for the destination's purpose) then removes them on the next
   * delivery, recorded in the ledger as `no consent for <purpose>`, and keeps them off while the consent stays
   * revoked. Destinations of other purposes keep them.
   */
  private async removeFor(profileId: string, revoked: string[]): Promise<ConsentView['removal']> {
    const holdings = this.holdings.get();
    if (!holdings) return { requested: false, destinations: [] };
    const held = await holdings.heldBy(profileId);
    const affected = held.filter((h) => {
      try {
        const { definition } = this.connections.connector('destination', h.connector);
        const purpose = (definition as { purpose?: string }).purpose;
        return purpose === undefined || revoked.includes(purpose);
      } catch {
        return true; // a connector no longer installed: remove rather than keep
      }
    });
    if (affected.length === 0) return { requested: false, destinations: [] };
    await holdings.recheck([profileId]);
    this.logger.log(
      `consent revoked (${revoked.join(', ')}): removal of a profile from ${affected.length} destinations queued`,
    );
    return { requested: true, destinations: affected.map((h) => h.destinationId) };
  }
}
