export * from './tracking.tables.js';
export * from './write-key.repository.js';
