export * from './audience-rule.types.js';
export * from './audience.tables.js';
export * from './rule.compiler.js';
export * from './audience.repository.js';
export * from './computed-trait.repository.js';
