import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { checkNodeRuntime, ConfigError, loadEnvironment, type Environment } from '@plexus/config';
import { createRootLogger, Metrics, PinoLoggerService, serveMetrics } from '@plexus/observability';
import { assertRedisReachable } from '@plexus/queue';
import { WorkerModule } from './worker.module.js';

/** `npm run start:worker`: BullMQ workers only. Run as many as the load needs. */
async function main(): Promise<void> {
  const runtime = checkNodeRuntime();
  if (runtime) process.stderr.write(`plexus-worker: ${runtime}\n`);
  let env: Environment;
  try {
    env = loadEnvironment();
    await assertRedisReachable(env.REDIS_URL);
  } catch (error) {
    process.stderr.write(`plexus-worker: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    process.exit(1);
  }
  const logger = new PinoLoggerService(createRootLogger(env.LOG_LEVEL));
  Logger.overrideLogger(logger);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(env), { logger });
  app.enableShutdownHooks();
  await app.init();
  if (env.WORKER_METRICS_PORT !== undefined) {
    await serveMetrics(app.get(Metrics), env.WORKER_METRICS_PORT, env.HOST);
    logger.log(`metrics on http://${env.HOST}:${env.WORKER_METRICS_PORT}/metrics`, 'Worker');
  }
  logger.log('worker started', 'Worker');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `plexus-worker: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
