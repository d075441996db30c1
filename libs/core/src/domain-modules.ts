import type { ModuleMetadata } from '@nestjs/common';

/** The domain modules every process loads; the API adds its controllers on top. */
export const DOMAIN_MODULES: NonNullable<ModuleMetadata['imports']> = [];
