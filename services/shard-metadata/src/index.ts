// For other packages' tests (start a real registry in-process) and for benchmarks.
export { startShardMetadata, type RunningShardMetadata } from './bootstrap.js';
export {
  shardMetadataConfigSchema,
  loadShardMetadataConfig,
  type ShardMetadataConfig,
} from './config.js';
export { AssignmentTable } from './application/assignments/assignment-table.js';
export type { Assignment } from './domain/assignment.js';
