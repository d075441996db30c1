import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadEnvironment } from '@plexus/config';
import { createApiApp } from '../bootstrap.js';
import { CONSOLE_API_DIR, openApiTypes } from './openapi-types.js';

/**
 * `npm run openapi`: boots the API on a throwaway embedded database (no workers), reads the OpenAPI document
 * it serves, and writes it beside the console with the TypeScript types the console's client is typed by.
 */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plexus-openapi-'));
  const env = loadEnvironment({
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    RUN_WORKERS: 'false',
    LOG_LEVEL: 'silent',
    // One fixed prefix: booting only registers the queues' metadata, which the next run reuses.
    QUEUE_PREFIX: 'plexus-openapi',
    ADMIN_API_KEY: `openapi-${randomBytes(16).toString('hex')}`,
    PORT: '0',
  });
  const app = await createApiApp(env);
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/docs/openapi.json`);
    if (!res.ok) throw new Error(`GET /docs/openapi.json → ${res.status}`);
    const document = (await res.json()) as object;
    const dir = resolve(CONSOLE_API_DIR);
    writeFileSync(join(dir, 'openapi.json'), `${JSON.stringify(document, null, 2)}\n`);
    writeFileSync(join(dir, 'schema.d.ts'), await openApiTypes(document));
    process.stdout.write(`wrote ${join(CONSOLE_API_DIR, 'openapi.json')} and schema.d.ts\n`);
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`openapi: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
