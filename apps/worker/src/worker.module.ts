import { Module, type DynamicModule } from '@nestjs/common';
import type { Environment } from '@plexus/config';
import { CoreModule, DOMAIN_MODULES } from '@plexus/core';

/** A worker process: the same services as the API, no HTTP, and the workers always on. */
@Module({})
export class WorkerModule {
  static forRoot(env: Environment): DynamicModule {
    return { module: WorkerModule, imports: [CoreModule.forRoot({ env, runWorkers: true, imports: DOMAIN_MODULES })] };
  }
}
