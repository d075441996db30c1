export * from './privacy.tables.js';
export * from './privacy-request.repository.js';
export * from './suppression.repository.js';
export * from './erasure.repository.js';
export * from './retention.repository.js';
export * from './consent.repository.js';
