export * from './connector-registry.js';
export * from './connection.service.js';
export * from './connectors.module.js';
