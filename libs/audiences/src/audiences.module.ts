import { Global, Module } from '@nestjs/common';
import { IdentityModule } from '@plexus/identity';
import { AudienceRepository } from '@plexus/storage';
import { AudienceChangeLog } from './audience-change-log.service.js';
import { AudienceEvaluator } from './audience-evaluator.service.js';
import { AudienceJobs } from './audience.jobs.js';
import { AudienceService } from './audience.service.js';
import { Clock } from './clock.js';

/** Audiences: rules, evaluation (full, real time, scheduled), memberships and the change log. */
@Global()
@Module({
  imports: [IdentityModule],
  providers: [AudienceRepository, Clock, AudienceEvaluator, AudienceService, AudienceChangeLog, AudienceJobs],
  exports: [AudienceService, AudienceEvaluator, AudienceChangeLog, AudienceJobs, Clock],
})
export class AudiencesModule {}
