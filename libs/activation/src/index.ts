export * from './holdings.js';
