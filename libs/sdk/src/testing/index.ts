/**
 * `@plexus/sdk/testing` — the Jest kit every connector runs: conformance suites, the checks they are made
 * of, helpers to run a connector against an emulator, and a fixture server to write one.
 */
export * from './fixture-server.js';
export * from './run.js';
export * from './checks.js';
export * from './conformance.js';
