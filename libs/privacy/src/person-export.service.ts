import { Injectable } from '@nestjs/common';
import { ProfileService } from '@plexus/identity';
import { AudienceRepository, Database, ErasureRepository, SuppressionRepository, type EventRow } from '@plexus/storage';
import type { PrivacyRequestRow } from '@plexus/storage';
import { HoldingsLocator } from './holdings.locator.js';
import type { Person } from './person-erasure.service.js';

/** Events read per page while building an export. */
const EVENT_PAGE = 1000;

/**
 * The right-of-access document: everything the hub holds about a person — what `GET /v1/profiles/:id` shows,
 * every event, the merge history, the source records as received, audience memberships with their reasons,
 * computed traits, the destinations that hold them, and whether they are suppressed.
 */
@Injectable()
export class PersonExport {
  constructor(
    private readonly database: Database,
    private readonly profiles: ProfileService,
    private readonly erasure: ErasureRepository,
    private readonly audiences: AudienceRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly holdings: HoldingsLocator,
  ) {}

  async document(person: Person, request: PrivacyRequestRow): Promise<Record<string, unknown>> {
    const base = {
      format: 'plexus-subject-access/1',
      generatedAt: new Date().toISOString(),
      request: { id: request.id, identifier: { type: request.identifierType, value: request.identifierValue } },
    };
    if (!person.profileId) return { ...base, held: false, profile: null };
    const id = person.profileId;
    const db = this.database.db;
    const [profile, history, observations, computedTraits, memberships, frozen] = await Promise.all([
      this.profiles.get(id),
      this.profiles.history(id),
      this.erasure.observations(db, person.profileIds),
      this.erasure.computedTraits(db, person.profileIds),
      this.audiences.membershipsOf(id),
      this.suppressions.isFrozen(id),
    ]);
    const events: EventRow[] = [];
    let after: { occurredAt: Date; id: number } | undefined;
    for (;;) {
      const page = await this.profiles.events(id, EVENT_PAGE, after);
      events.push(...page);
      if (page.length < EVENT_PAGE) break;
      const last = page[page.length - 1];
      after = { occurredAt: last.occurredAt, id: last.id };
    }
    const holdings = this.holdings.get();
    const destinations = holdings ? await holdings.heldBy(id) : [];
    return {
      ...base,
      held: true,
      profile: profile ? { ...profile, recentEvents: undefined } : null,
      mergedProfileIds: person.profileIds.filter((p) => p !== id),
      events,
      history,
      sourceRecords: observations,
      audiences: memberships.map((m) => ({ audienceId: m.audienceId, enteredAt: m.enteredAt, reason: m.reason })),
      computedTraits,
      destinations,
      suppressed: frozen,
    };
  }
}
