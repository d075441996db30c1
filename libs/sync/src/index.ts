export * from './run.service.js';
export * from './sync.engine.js';
export * from './sync.module.js';
