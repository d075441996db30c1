export * from './jobs.js';
export * from './job-errors.js';
export * from './job-handler.decorator.js';
export * from './queue.service.js';
export * from './queue.module.js';
export * from './redis.js';
export * from './invalidation-bus.service.js';
export * from './queue-board.js';
/** A BullMQ job as handlers receive it (progress, attempts); the type only, BullMQ stays inside this lib. */
export type { Job } from 'bullmq';
