import type { ModuleMetadata } from '@nestjs/common';
import { ActivationModule } from '@plexus/activation';
import { AudiencesModule } from '@plexus/audiences';
import { ConnectorsModule } from '@plexus/connectors';
import { IdentityModule } from '@plexus/identity';
import { PrivacyModule } from '@plexus/privacy';
import { SyncModule } from '@plexus/sync';
import { TrackingModule } from '@plexus/tracking';

/** The domain modules every process loads; the API adds its controllers on top. */
export const DOMAIN_MODULES: NonNullable<ModuleMetadata['imports']> = [
  IdentityModule,
  ConnectorsModule,
  SyncModule,
  TrackingModule,
  AudiencesModule,
  ActivationModule,
  PrivacyModule,
];
