export * from './core.module.js';
export * from './domain-modules.js';
