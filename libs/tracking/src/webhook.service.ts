import { Injectable, Logger } from '@nestjs/common';
import { InvalidInputError, NotFoundError, UnauthenticatedError } from '@plexus/errors';
import { ConnectionService, ConnectorContexts } from '@plexus/connectors';
import type { ProfileRecord, SourceDefinition, WebhookRequest } from '@plexus/sdk';
import { TrackingIngestor } from './tracking-ingestor.service.js';

export interface WebhookResponse {
  success: true;
  /** Records the request carried, and those stored. */
  received: number;
  stored: number;
}

/**
 * `POST /v1/webhooks/:sourceId`: hands the raw request to the source connector's `webhook.verify` (which
 * compares signatures in constant time), maps it with `webhook.toProfiles`, and stores the records.
 */
@Injectable()
export class WebhookService {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly connections: ConnectionService,
    private readonly contexts: ConnectorContexts,
    private readonly ingestor: TrackingIngestor,
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
    let records: ProfileRecord[];
    try {
      records = webhook.toProfiles(request, config, { connectionId: sourceId });
    } catch (error) {
      throw new InvalidInputError(`Unreadable webhook payload: ${(error as Error).message}`);
    }
    const { defaultCountry } = this.contexts.ingestSettings(row);
    const result = await this.ingestor.store({ sourceId, ...(defaultCountry ? { defaultCountry } : {}) }, records);
    if (result.rejected.length > 0)
      this.logger.warn(`${sourceId}: ${result.rejected.length} webhook records refused: ${result.rejected[0].reason}`);
    return { success: true, received: records.length, stored: records.length - result.rejected.length };
  }
}
