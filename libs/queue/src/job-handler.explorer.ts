import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JOB_HANDLER } from './job-handler.decorator.js';
import type { JobName } from './jobs.js';
import { QueueService, type JobHandlerFn } from './queue.service.js';

/** Finds every `@JobHandler` method among the application's providers and starts the workers for them. */
@Injectable()
export class JobHandlerExplorer {
  private readonly logger = new Logger('Queue');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly queues: QueueService,
  ) {}

  collect(): Map<JobName, JobHandlerFn> {
    const handlers = new Map<JobName, JobHandlerFn>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const job = this.reflector.get<JobName | undefined>(JOB_HANDLER, fn as (...args: unknown[]) => unknown);
        if (!job) continue;
        if (handlers.has(job)) throw new Error(`two handlers for job ${job}`);
        handlers.set(job, (payload, bullJob) => (fn as JobHandlerFn).call(instance, payload, bullJob));
      }
    }
    return handlers;
  }

  startWorkers(): void {
    const handlers = this.collect();
    if (handlers.size === 0) this.logger.warn('no job handlers found');
    this.queues.startWorkers(handlers);
  }
}
