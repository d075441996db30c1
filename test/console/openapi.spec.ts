import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONSOLE_API_DIR, openApiTypes } from '../../apps/api/src/openapi/openapi-types.js';
import { startTestApp, type TestApp } from '../support/app.js';

const dir = resolve(import.meta.dirname, '../..', CONSOLE_API_DIR);

/**
 * The console's client is typed from a committed copy of the API's OpenAPI document. When the API changes,
 * this fails until `npm run openapi` refreshes the copy (and the console's type check then shows what broke).
 */
describe('the OpenAPI document the console is typed from', () => {
  let t: TestApp;
  let served: object;

  beforeAll(async () => {
    t = await startTestApp({ storage: 'pglite', label: 'openapi' });
    served = (await (await fetch(`${t.url}/docs/openapi.json`)).json()) as object;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('is the document the API serves (run `npm run openapi` after changing the API)', () => {
    const committed = JSON.parse(readFileSync(join(dir, 'openapi.json'), 'utf8')) as object;
    expect(committed).toEqual(served);
  });

  it('has its TypeScript types generated from that document', async () => {
    expect(readFileSync(join(dir, 'schema.d.ts'), 'utf8')).toBe(await openApiTypes(served));
  });
});
