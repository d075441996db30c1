import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import type { Environment } from '@plexus/config';
import { CoreModule, DOMAIN_MODULES } from '@plexus/core';
import { ActivationsController } from './activations/activations.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { StatsController } from './stats/stats.controller.js';
import { AuditInterceptor } from './audit/audit.interceptor.js';
import { AuditStates } from './audit/audit-states.js';
import { ApiKeyAuthenticator, ApiKeyGuard } from './auth/api-key.guard.js';
import { PiiMaskingInterceptor } from './auth/pii-masking.interceptor.js';
import { RateLimits } from './auth/rate-limits.service.js';
import { AudiencesController, ProfileAudiencesController } from './audiences/audiences.controller.js';
import { ComputedTraitsController } from './audiences/computed-traits.controller.js';
import { ApiKeySeeder } from './auth/api-key.seeder.js';
import { ApiKeysController } from './auth/api-keys.controller.js';
import { ConnectorsController } from './connections/connectors.controller.js';
import { DestinationsController, RunsController, SourcesController } from './connections/connections.controller.js';
import { HealthController } from './health/health.controller.js';
import { IdentityRulesController } from './identity/identity-rules.controller.js';
import { ProfilesController } from './identity/profiles.controller.js';
import { AllExceptionsFilter } from './http/all-exceptions.filter.js';
import { QueuesController } from './ops/queues.controller.js';
import { ConsentController, PrivacyRequestsController, RetentionController } from './privacy/privacy.controller.js';
import { TrackingController } from './tracking/tracking.controller.js';
import { WebhooksController } from './tracking/webhooks.controller.js';
import { WriteKeysController } from './tracking/write-keys.controller.js';

/** The API process: the core, the domain modules, and the HTTP layer over them. */
@Module({})
export class ApiModule {
  /** `extraProviders`: providers added to the application (tests register doubles of other parts this way). */
  static forRoot(env: Environment, extraProviders: Provider[] = []): DynamicModule {
    return {
      module: ApiModule,
      imports: [CoreModule.forRoot({ env, runWorkers: env.RUN_WORKERS, imports: DOMAIN_MODULES })],
      controllers: [
        HealthController,
        ApiKeysController,
        QueuesController,
        IdentityRulesController,
        ProfilesController,
        ConnectorsController,
        SourcesController,
        DestinationsController,
        RunsController,
        TrackingController,
        WebhooksController,
        WriteKeysController,
        AuditController,
        AudiencesController,
        ProfileAudiencesController,
        ComputedTraitsController,
        StatsController,
        ActivationsController,
        PrivacyRequestsController,
        ConsentController,
        RetentionController,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_INTERCEPTOR, useClass: PiiMaskingInterceptor },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
        AuditStates,
        ApiKeySeeder,
        RateLimits,
        ApiKeyAuthenticator,
        ...extraProviders,
      ],
    };
  }
}
