import 'reflect-metadata';
import { checkNodeRuntime, ConfigError, loadEnvironment, type Environment } from '@plexus/config';
import { assertRedisReachable } from '@plexus/queue';
import { createApiApp } from './bootstrap.js';

/** `npm start`: the API, and unless RUN_WORKERS=false the workers too, in one process. */
async function main(): Promise<void> {
  const runtime = checkNodeRuntime();
  if (runtime) process.stderr.write(`plexus: ${runtime}\n`);
  let env: Environment;
  try {
    env = loadEnvironment();
    await assertRedisReachable(env.REDIS_URL);
  } catch (error) {
    process.stderr.write(`plexus: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    process.exit(1);
  }
  const app = await createApiApp(env);
  await app.listen(env.PORT, env.HOST);
  const url = `http://localhost:${env.PORT}`;
  process.stdout.write(
    `Plexus listening on ${url} (docs ${url}/docs, queues ${url}/queues, workers ${env.RUN_WORKERS ? 'on' : 'off'})\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `plexus: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
