export * from './identifier.normalizer.js';
export * from './record.normalizer.js';
export * from './profile.types.js';
export * from './safe-input.js';
