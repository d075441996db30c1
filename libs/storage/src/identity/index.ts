export * from './identity.tables.js';
export * from './identity-graph.repository.js';
export * from './identity-fingerprint.repository.js';
export * from './identity-rules.repository.js';
export * from './profile.repository.js';
export * from './profile-change.repository.js';
