export * from './tracking.tables.js';
export * from './write-key.repository.js';
export * from './tracking-quarantine.repository.js';
export * from './webhook-delivery.repository.js';
