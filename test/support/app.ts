import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Provider } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadEnvironment, type Environment } from '@plexus/config';
import { createApiApp } from '../../apps/api/src/bootstrap.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { seedEmbeddedDatabase } from './embedded-template.js';
import { deleteRedisPrefix, testPrefix, TEST_REDIS_URL } from './redis.js';

export const TEST_ADMIN_KEY = 'plx_test_admin_key_0123456789abcdef';

export interface TestApp {
  app: NestExpressApplication;
  env: Environment;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  /** `{ authorization: 'Bearer …' }` with the admin key. */
  auth: Record<string, string>;
  /** The app's import folder (`DATA_DIR/imports`, the default `IMPORT_DIRS`): file-import paths must lie here. */
  importDir: string;
  /** What the app logged, one JSON line each. */
  logs: string[];
  database?: TestDatabase;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** 'postgres' (default): a fresh PostgreSQL database; 'pglite': embedded, in a temporary DATA_DIR. */
  storage?: 'postgres' | 'pglite';
  /**
   * Variables over the test defaults. The defaults allow connectors to reach loopback (`OUTBOUND_ALLOW`), where
   * every emulator listens; pass `OUTBOUND_ALLOW: ''` to test the hub as deployed.
   */
  env?: Record<string, string>;
  label?: string;
  /** Extra providers (doubles of components another part of the hub provides, e.g. activation's ports). */
  providers?: Provider[];
}

/** The emulators of test/emulators listen on loopback: tests allow it explicitly, production does not. */
export const LOOPBACK_ALLOW = '127.0.0.1,::1,localhost';

/** Boots the whole API (and workers) on real Redis and PostgreSQL/PGlite, listening on a random port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const label = options.label ?? 'app';
  const dataDir = mkdtempSync(join(tmpdir(), `plexus-${label}-`));
  const database = options.storage === 'pglite' ? undefined : await createTestDatabase(label);
  if (!database) await seedEmbeddedDatabase(dataDir);
  const prefix = testPrefix(label);
  const env = loadEnvironment({
    DATA_DIR: dataDir,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'info',
    PORT: '0',
    SHUTDOWN_TIMEOUT_MS: '2000',
    OUTBOUND_ALLOW: LOOPBACK_ALLOW,
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = await createApiApp(env, { logDestination: sink, providers: options.providers });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    env,
    url: `http://127.0.0.1:${address.port}`,
    auth: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    importDir: join(env.DATA_DIR, 'imports'),
    logs,
    database,
    async close() {
      await app.close();
      await database?.drop();
      await deleteRedisPrefix(prefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
