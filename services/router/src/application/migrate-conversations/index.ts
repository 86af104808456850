export * from './migration.ports.js';
export * from './migration-id.js';
export * from './migrate-conversations.use-case.js';
export * from './migrate-on-demand.js';
