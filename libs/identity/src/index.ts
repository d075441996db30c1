export * from './identity-rules.js';
export * from './identity-graph.js';
export * from './trait-merge.js';
export * from './identity-rules.service.js';
export * from './identity-resolver.service.js';
export * from './ingest.service.js';
export * from './profile.service.js';
export * from './identity.module.js';
