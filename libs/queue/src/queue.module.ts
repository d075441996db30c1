import { Global, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { InvalidationBus } from './invalidation-bus.service.js';
import { JobHandlerExplorer } from './job-handler.explorer.js';
import { QueueService } from './queue.service.js';

export interface QueueModuleOptions {
  /** Start BullMQ workers for every discovered @JobHandler when the application boots. */
  runWorkers: boolean;
}

class WorkerStarter implements OnApplicationBootstrap {
  constructor(
    private readonly explorer: JobHandlerExplorer,
    private readonly runWorkers: boolean,
  ) {}
  onApplicationBootstrap(): void {
    if (this.runWorkers) this.explorer.startWorkers();
  }
}

/** The one module that touches BullMQ. */
@Global()
@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      imports: [DiscoveryModule],
      providers: [
        QueueService,
        InvalidationBus,
        JobHandlerExplorer,
        {
          provide: WorkerStarter,
          inject: [JobHandlerExplorer],
          useFactory: (explorer: JobHandlerExplorer) => new WorkerStarter(explorer, options.runWorkers),
        },
      ],
      exports: [QueueService, InvalidationBus],
    };
  }
}
