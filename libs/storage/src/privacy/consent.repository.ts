import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { parseJson } from '../identity/identity-graph.repository.js';
import type { StoredConsent } from '../identity/identity.tables.js';
import type { Tables } from '../schema.js';

/** Consent written by an admin (or a data-protection officer) through the API, per purpose. */
@Injectable()
export class ConsentRepository {
  /** The profile's consent, its row locked for the rest of the transaction (undefined: no such live profile). */
  async lockConsent(db: Kysely<Tables>, profileId: string): Promise<Record<string, StoredConsent> | undefined> {
    const { rows } = await sql<{ consent: unknown }>`select consent from profiles
      where id = ${profileId}::uuid and merged_into is null for update`.execute(db);
    return rows[0] ? parseJson<Record<string, StoredConsent>>(rows[0].consent) : undefined;
  }

  /** Sets these purposes (others are kept) and returns the profile's whole consent. */
  async merge(
    db: Kysely<Tables>,
    profileId: string,
    patch: Record<string, StoredConsent>,
  ): Promise<Record<string, StoredConsent>> {
    const { rows } = await sql<{ consent: unknown }>`update profiles
      set consent = consent || ${JSON.stringify(patch)}::jsonb, updated_at = now()
      where id = ${profileId}::uuid returning consent`.execute(db);
    return parseJson<Record<string, StoredConsent>>(rows[0]?.consent ?? {});
  }
}
