import { Global, Module } from '@nestjs/common';
import { IngestGate } from '@plexus/identity';
import {
  AudienceRepository,
  ConsentRepository,
  ErasureRepository,
  IdentityGraphRepository,
  PrivacyRequestRepository,
  RetentionRepository,
  SuppressionRepository,
} from '@plexus/storage';
import { ConsentService } from './consent.service.js';
import { HoldingsLocator } from './holdings.locator.js';
import { IdentifierHasher } from './identifier-hasher.js';
import { PersonErasure } from './person-erasure.service.js';
import { PersonExport } from './person-export.service.js';
import { PrivacyAuditStates } from './privacy-audit-states.js';
import { PrivacyRequestService } from './privacy-request.service.js';
import { PrivacyRunner } from './privacy-runner.service.js';
import { RetentionService } from './retention.service.js';
import { SuppressionGate } from './suppression.gate.js';

/**
 * Privacy: requests (delete, suppress, unsuppress, export) run as jobs, the suppression list ingestion checks
 * (it provides identity's {@link IngestGate}), consent set by admins, and retention. Global, so the identity
 * module finds the gate.
 */
@Global()
@Module({
  providers: [
    PrivacyRequestRepository,
    SuppressionRepository,
    ErasureRepository,
    RetentionRepository,
    ConsentRepository,
    IdentityGraphRepository,
    AudienceRepository,
    IdentifierHasher,
    SuppressionGate,
    { provide: IngestGate, useExisting: SuppressionGate },
    HoldingsLocator,
    PersonErasure,
    PersonExport,
    PrivacyRequestService,
    PrivacyRunner,
    ConsentService,
    RetentionService,
    PrivacyAuditStates,
  ],
  exports: [IngestGate, PrivacyRequestService, ConsentService, RetentionService, IdentifierHasher],
})
export class PrivacyModule {}
