export * from './run.service.js';
export * from './sync.engine.js';
export * from './sync.module.js';
export * from './run-reaper.service.js';
export * from './upload.service.js';
