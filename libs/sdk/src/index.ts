export * from './records.js';
export * from './connector.js';
export * from './errors.js';
