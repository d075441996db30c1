import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import { QUEUE_NAMES } from './jobs.js';
import type { QueueService } from './queue.service.js';

/**
 * The BullMQ dashboard's pages for every Plexus queue, as an Express router to mount at `basePath`. The caller
 * puts its own authentication in front of it.
 */
export function queueBoardRouter(queues: QueueService, basePath: string): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({ queues: QUEUE_NAMES.map((name) => new BullMQAdapter(queues.queue(name))), serverAdapter });
  return serverAdapter.getRouter() as Router;
}
