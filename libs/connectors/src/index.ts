export * from './connector-registry.js';
export * from './connection.service.js';
export * from './connection-secrets.js';
export * from './connection-schedules.js';
export * from './connector-contexts.js';
export * from './connectors.module.js';
export * from './outbound-policy.js';
