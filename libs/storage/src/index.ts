export * from './database.js';
export * from './migrator.js';
export * from './schema.js';
export * from './secret-box.js';
export * from './api-key.repository.js';
export * from './storage.module.js';
export * from './identity/index.js';
export * from './tracking/index.js';
