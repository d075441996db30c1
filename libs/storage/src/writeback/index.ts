export * from './written-value.tables.js';
export * from './written-value.repository.js';
