import { Global, Module } from '@nestjs/common';
import { PUSH_CREDENTIALS } from '@plexus/connectors';
import { IdentityModule } from '@plexus/identity';
import { TrackingQuarantineRepository, WebhookDeliveryRepository, WriteKeyRepository } from '@plexus/storage';
import { TrackingIngestor } from './tracking-ingestor.service.js';
import { TrackingService } from './tracking.service.js';
import { WebhookService } from './webhook.service.js';
import { WriteKeyService } from './write-key.service.js';

/**
 * Real-time ingestion: the Segment-compatible tracking API, write keys, webhooks. Global so that
 * `ConnectionService` (connections) finds the write-key issuer under {@link PUSH_CREDENTIALS} without
 * depending on this module.
 */
@Global()
@Module({
  imports: [IdentityModule],
  providers: [
    WriteKeyRepository,
    TrackingQuarantineRepository,
    WebhookDeliveryRepository,
    WriteKeyService,
    { provide: PUSH_CREDENTIALS, useExisting: WriteKeyService },
    TrackingIngestor,
    TrackingService,
    WebhookService,
  ],
  exports: [WriteKeyService, PUSH_CREDENTIALS, TrackingIngestor, TrackingService, WebhookService],
})
export class TrackingModule {}
