import { type LogLevel, Logger } from '@nestjs/common';
import type { ShardMetadataConfig } from './config.js';
import { type ReplicaLog, ShardMetadataReplica } from './shard-metadata.replica.js';

export { ShardMetadataReplica, type ReplicaLog } from './shard-metadata.replica.js';

export interface RunningShardMetadata {
  readonly host: string;
  /** Where it serves while it leads; the same port in every term. */
  readonly port: number;
  /** Whether this instance leads (serves) now; a standby does not listen. */
  readonly leading: boolean;
  /** Graceful: watchers are told to reconnect, in-flight calls finish, the outbox relay drains. */
  close(): Promise<void>;
}

/**
 * Starts an instance in this process and resolves once it leads: main.ts-like use and in-process
 * integration tests, where it is the only instance on its database and leads at once.
 */
export async function startShardMetadata(
  config: ShardMetadataConfig,
  logLevels: LogLevel[] = ['error', 'warn', 'log'],
): Promise<RunningShardMetadata> {
  const replica = startShardMetadataReplica(config, logLevels);
  await replica.firstTerm;
  return replica;
}

/** Starts an instance that leads when it can and stands by otherwise (docs/adr/0008). */
export function startShardMetadataReplica(
  config: ShardMetadataConfig,
  logLevels: LogLevel[] = ['error', 'warn', 'log'],
  log: ReplicaLog = nestReplicaLog(),
): ShardMetadataReplica {
  return new ShardMetadataReplica(config, logLevels, log);
}

export function nestReplicaLog(logger = new Logger('shard-metadata')): ReplicaLog {
  const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));
  return {
    standingBy: () => logger.log('another instance leads; standing by'),
    leading: (host, port) => logger.log(`leading; serving on ${host}:${port}`),
    steppedDown: (error) =>
      logger.warn(`lost the leader lock (${error.message}); stopped serving, standing by`),
    termFailed: (error) => logger.error(`could not start serving; retrying: ${reason(error)}`),
    lockUnreachable: (error) =>
      logger.warn(`cannot reach PostgreSQL for the leader lock; retrying: ${reason(error)}`),
  };
}
