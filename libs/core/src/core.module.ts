import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { AuditModule } from '@plexus/audit';
import { ConfigModule, type Environment } from '@plexus/config';
import { ObservabilityModule } from '@plexus/observability';
import { QueueModule } from '@plexus/queue';
import { StorageModule } from '@plexus/storage';

export interface CoreModuleOptions {
  env: Environment;
  /** Start the BullMQ workers in this process. */
  runWorkers: boolean;
  /** Domain modules shared by the API and worker processes. */
  imports?: ModuleMetadata['imports'];
}

/**
 * Everything both process roles need: configuration, logging/metrics, storage and queues, plus the domain
 * modules. The API process adds controllers; the worker process adds nothing and runs the job handlers.
 */
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(options.env),
        ObservabilityModule,
        StorageModule.forRoot(),
        QueueModule.forRoot({ runWorkers: options.runWorkers }),
        AuditModule,
        ...(options.imports ?? []),
      ],
    };
  }
}
