import { Global, Module } from '@nestjs/common';
import { ActivationRepository } from '@plexus/storage';
import { ActivationEngine } from './activation-engine.service.js';
import { LedgerActivationHoldings } from './activation-holdings.service.js';
import { ActivationJobs } from './activation.jobs.js';
import { ActivationMetrics } from './activation.metrics.js';
import { ActivationScheduler } from './activation-scheduler.service.js';
import { ActivationService } from './activation.service.js';
import { DestinationAccess } from './destination-access.js';
import { ActivationHoldings } from './holdings.js';
import { ActivationWriteHooks } from './write-hooks.js';
import { WriteBackListener } from './write-back.listener.js';

/** Activation: delivery of audience changes to destinations, the ledger, and the holdings port privacy uses. */
@Global()
@Module({
  providers: [
    ActivationRepository,
    DestinationAccess,
    ActivationMetrics,
    ActivationWriteHooks,
    WriteBackListener,
    ActivationEngine,
    ActivationScheduler,
    ActivationService,
    ActivationJobs,
    { provide: ActivationHoldings, useClass: LedgerActivationHoldings },
  ],
  exports: [ActivationService, ActivationEngine, ActivationHoldings, ActivationWriteHooks, ActivationRepository],
})
export class ActivationModule {}
