import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnector } from '../../apps/cli/src/create-connector.js';
import { connectorImportProblems } from '../support/imports.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const OUT = join(ROOT, 'test', 'scaffold-output', `run-${process.pid}`);

describe('plexus create-connector', () => {
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('refuses bad ids and existing folders', () => {
    expect(() => createConnector('Bad Id', 'source', OUT)).toThrow(/lower-case/);
    createConnector('twice', 'source', OUT);
    expect(() => createConnector('twice', 'source', OUT)).toThrow(/already exists/);
  });

  it('scaffolds a source and a destination whose conformance suites pass unchanged', () => {
    const source = createConnector('acme-crm', 'source', OUT);
    const destination = createConnector('acme-ads', 'destination', OUT);
    for (const dir of [source, destination]) {
      expect(readdirSync(dir).sort()).toEqual(
        expect.arrayContaining(['README.md', 'fixture-api.ts', 'fixtures', 'index.ts']),
      );
      // The house rule holds for the generated code.
      for (const file of ['index.ts', 'fixture-api.ts']) {
        expect(connectorImportProblems(join(dir, file), readFileSync(join(dir, file), 'utf8'), OUT)).toEqual([]);
      }
    }
    expect(existsSync(join(source, 'fixtures', 'contacts.json'))).toBe(true);

    const run = spawnSync(
      process.execPath,
      [
        'node_modules/jest/bin/jest.js',
        '--roots',
        OUT,
        '--testPathIgnorePatterns',
        '/node_modules/',
        '--ci',
        '--runInBand',
        '--verbose',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning' },
        encoding: 'utf8',
        timeout: 120000,
      },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).toMatch(/acme-crm source conformance/);
    expect(output).toMatch(/acme-ads destination conformance/);
    expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(run.status).toBe(0);
  }, 150000);
});
