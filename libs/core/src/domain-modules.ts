import type { ModuleMetadata } from '@nestjs/common';
import { IdentityModule } from '@plexus/identity';

/** The domain modules every process loads; the API adds its controllers on top. */
export const DOMAIN_MODULES: NonNullable<ModuleMetadata['imports']> = [IdentityModule];
