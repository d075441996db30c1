import { hash } from 'node:crypto';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { IdentityMetrics } from '@plexus/identity';
import { ConflictError, InvalidInputError, NotFoundError, UnauthenticatedError } from '@plexus/errors';
import { ConnectionService, ConnectorContexts } from '@plexus/connectors';
import { WebhookDeliveryRepository } from '@plexus/storage';
import {
  ingestSettingsOf,
  type ProfileRecord,
  type SourceDefinition,
  type WebhookDefinition,
  type WebhookRequest,
} from '@plexus/sdk';
import { sinkCounts } from './group-commit.js';
import { TrackingIngestor } from './tracking-ingestor.service.js';

export interface WebhookResponse {
  success: true;
  /** Records the request carried, and those stored. */
  received: number;
  stored: number;
  /** Records not stored because their person asked to be erased or not collected. */
  suppressed?: number;
  /** Records not stored because the source delivered them before unchanged (storing them again changes nothing). */
  unchanged?: number;
  /** The delivery id was stored before: nothing was stored again. */
  duplicate?: true;
}

/** Deliveries are remembered this long (vendors retry for up to a day or two). */
export const DELIVERY_MEMORY_MS = 48 * 3_600_000;
/** A claimed delivery not finished after this long was abandoned (a crashed process): a retry takes it over. */
const ABANDONED_AFTER_MS = 60_000;
const PURGE_EVERY_MS = 3_600_000;

/**
 * `POST /v1/webhooks/:sourceId`: hands the raw request to the source connector's `webhook.verify` (which
 * compares signatures in constant time), maps it with `webhook.toProfiles`, and stores the records.
 */
@Injectable()
export class WebhookService {
  private readonly logger = new Logger('Webhooks');
  private lastPurge = 0;

  constructor(
    private readonly connections: ConnectionService,
    private readonly contexts: ConnectorContexts,
    private readonly ingestor: TrackingIngestor,
    private readonly deliveries: WebhookDeliveryRepository,
    @Optional() private readonly metrics?: IdentityMetrics,
  ) {}

  async receive(sourceId: string, request: WebhookRequest): Promise<WebhookResponse> {
    const row = await this.connections.row('source', sourceId);
    const definition = this.connections.connector('source', row.connector).definition as SourceDefinition<unknown>;
    const webhook = definition.webhook;
    if (!webhook) throw new NotFoundError(`Source ${sourceId} (${row.connector}) does not accept webhooks`);
    const config = this.contexts.openConfig(row);
    let authentic = false;
    try {
      authentic = webhook.verify(request, config);
    } catch (error) {
      this.logger.warn(`${sourceId}: webhook verification threw: ${(error as Error).message}`);
    }
    if (!authentic) throw new UnauthenticatedError('Invalid webhook signature');
    const { defaultCountry } = ingestSettingsOf(definition, config);
    let deliveryId: string | undefined;
    try {
      deliveryId = webhook.deliveryId?.(request);
    } catch (error) {
      this.logger.warn(`${sourceId}: webhook deliveryId threw: ${(error as Error).message}`);
    }
    if (!deliveryId) return this.store(row, webhook, request, config, defaultCountry);
    // Hashed: ids are the vendor's, of any length and alphabet.
    const key = hash('sha256', deliveryId, 'hex');
    await this.purgeOldDeliveries();
    const claim = await this.deliveries.claim(sourceId, key, ABANDONED_AFTER_MS);
    if (claim === 'duplicate') return { success: true, received: 0, stored: 0, duplicate: true };
    if (claim === 'in-progress') throw new ConflictError('This delivery is being processed; retry later');
    try {
      const response = await this.store(row, webhook, request, config, defaultCountry);
      await this.deliveries.stored(sourceId, key);
      return response;
    } catch (error) {
      await this.deliveries.release(sourceId, key);
      throw error;
    }
  }

  private async store(
    { id: sourceId, connector }: { id: string; connector: string },
    webhook: WebhookDefinition<unknown>,
    request: WebhookRequest,
    config: Record<string, unknown>,
    defaultCountry: string | undefined,
  ): Promise<WebhookResponse> {
    let records: ProfileRecord[];
    try {
      records = webhook.toProfiles(request, config, { connectionId: sourceId });
    } catch (error) {
      throw new InvalidInputError(`Unreadable webhook payload: ${(error as Error).message}`);
    }
    const result = await this.ingestor.store({ sourceId, ...(defaultCountry ? { defaultCountry } : {}) }, records);
    if (result.rejected.length > 0)
      // Count only: the reasons quote identifier values.
      this.logger.warn(`${sourceId}: ${result.rejected.length} of ${records.length} webhook records refused`);
    // A record neither stored, unchanged (both have a profile) nor rejected was refused by the privacy suppression list.
    const { stored, unchanged } = sinkCounts(result);
    const suppressed = records.length - stored - unchanged - result.rejected.length;
    this.metrics?.countRecords(
      { sourceId, connector },
      { read: records.length, written: stored, unchanged, suppressed, refused: result.rejected.length },
    );
    return {
      success: true,
      received: records.length,
      stored,
      ...(unchanged > 0 ? { unchanged } : {}),
      ...(suppressed > 0 ? { suppressed } : {}),
    };
  }

  private async purgeOldDeliveries(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await this.deliveries.purge(DELIVERY_MEMORY_MS);
  }
}
