import { Global, Module } from '@nestjs/common';
import {
  IdentityGraphRepository,
  IdentityRulesRepository,
  ProfileChangeRepository,
  ProfileRepository,
  WrittenValueRepository,
} from '@plexus/storage';
import { IdentityResolver } from './identity-resolver.service.js';
import { IdentityRulesService } from './identity-rules.service.js';
import { IdentityMetrics } from './identity.metrics.js';
import { IngestService } from './ingest.service.js';
import { ProfileChanges } from './profile-changes.js';
import { ProfileService } from './profile.service.js';
import { WrittenValuesService } from './written-values.service.js';

/**
 * Identity resolution and the profile store: ingest, rules, history, unmerge, reads. Global, so the API's
 * controllers and other domain modules (sync, tracking, audiences) can inject IngestService and friends.
 */
@Global()
@Module({
  providers: [
    IdentityGraphRepository,
    IdentityRulesRepository,
    ProfileRepository,
    ProfileChangeRepository,
    IdentityRulesService,
    IdentityResolver,
    IdentityMetrics,
    IngestService,
    ProfileService,
    ProfileChanges,
    WrittenValueRepository,
    WrittenValuesService,
  ],
  exports: [
    IdentityMetrics,
    IngestService,
    IdentityRulesService,
    ProfileService,
    ProfileRepository,
    ProfileChanges,
    WrittenValuesService,
  ],
})
export class IdentityModule {}
