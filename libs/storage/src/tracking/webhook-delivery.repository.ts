import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';

/** What a delivery id says about a webhook request. */
export type DeliveryClaim =
  /** First time seen (or an earlier attempt was abandoned): process it, then `stored` or `release`. */
  | 'new'
  /** Stored already: answer success without storing again. */
  | 'duplicate'
  /** Another request with this id is being processed right now. */
  | 'in-progress';

/** All SQL of webhook delivery deduplication. Keys arrive hashed. */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(private readonly database: Database) {}

  /** Claims a delivery; an unfinished claim older than `abandonedAfterMs` is taken over. */
  async claim(sourceId: string, deliveryKey: string, abandonedAfterMs: number): Promise<DeliveryClaim> {
    const inserted = await this.database.db
      .insertInto('webhook_deliveries')
      .values({ source_id: sourceId, delivery_key: deliveryKey })
      .onConflict((oc) => oc.columns(['source_id', 'delivery_key']).doNothing())
      .returning('source_id')
      .executeTakeFirst();
    if (inserted) return 'new';
    const taken = await this.database.db
      .updateTable('webhook_deliveries')
      .set({ received_at: new Date() })
      .where('source_id', '=', sourceId)
      .where('delivery_key', '=', deliveryKey)
      .where('stored_at', 'is', null)
      .where('received_at', '<', new Date(Date.now() - abandonedAfterMs))
      .returning('source_id')
      .executeTakeFirst();
    if (taken) return 'new';
    const row = await this.database.db
      .selectFrom('webhook_deliveries')
      .select('stored_at')
      .where('source_id', '=', sourceId)
      .where('delivery_key', '=', deliveryKey)
      .executeTakeFirst();
    // Gone in between (released by a failed attempt): the vendor's next retry claims it.
    return row?.stored_at ? 'duplicate' : 'in-progress';
  }

  async stored(sourceId: string, deliveryKey: string): Promise<void> {
    await this.database.db
      .updateTable('webhook_deliveries')
      .set({ stored_at: new Date() })
      .where('source_id', '=', sourceId)
      .where('delivery_key', '=', deliveryKey)
      .execute();
  }

  /** Forgets an unfinished claim (processing failed), so the vendor's retry is processed. */
  async release(sourceId: string, deliveryKey: string): Promise<void> {
    await this.database.db
      .deleteFrom('webhook_deliveries')
      .where('source_id', '=', sourceId)
      .where('delivery_key', '=', deliveryKey)
      .where('stored_at', 'is', null)
      .execute();
  }

  /** Removes deliveries received more than `olderThanMs` ago; returns how many. */
  async purge(olderThanMs: number): Promise<number> {
    const result = await this.database.db
      .deleteFrom('webhook_deliveries')
      .where('received_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
