import { Global, Module } from '@nestjs/common';
import { IdentityModule } from '@plexus/identity';
import { AudienceRepository, ComputedTraitRepository } from '@plexus/storage';
import { AudienceChangeLog } from './audience-change-log.service.js';
import { AudienceEvaluator } from './audience-evaluator.service.js';
import { AudienceJobs } from './audience.jobs.js';
import { AudienceMetrics } from './audience.metrics.js';
import { AudienceService } from './audience.service.js';
import { Clock } from './clock.js';
import { ComputedTraitService } from './computed-trait.service.js';

/** Audiences: rules, evaluation (full, real time, scheduled), memberships, the change log, computed traits. */
@Global()
@Module({
  imports: [IdentityModule],
  providers: [
    AudienceRepository,
    ComputedTraitRepository,
    Clock,
    AudienceEvaluator,
    AudienceService,
    AudienceChangeLog,
    ComputedTraitService,
    AudienceJobs,
    AudienceMetrics,
  ],
  exports: [AudienceService, AudienceEvaluator, AudienceChangeLog, ComputedTraitService, AudienceJobs, Clock],
})
export class AudiencesModule {}
