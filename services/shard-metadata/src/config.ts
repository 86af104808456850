import { env, loadConfig, z } from '@spillway/config';
import { TOPIC_NAMES } from '@spillway/messaging';

const positiveMs = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

export const shardMetadataConfigSchema = z
  .object({
    GRPC_HOST: z.string().min(1).default('127.0.0.1'),
    /** 0: any free port (the ready line says which). */
    GRPC_PORT: env.port(50070),
    DATABASE_URL: env.postgresUrl('postgres://postgres@127.0.0.1:5432/spillway_shard_metadata'),
    /** Create the database named in DATABASE_URL when it does not exist (needs CREATEDB). */
    DATABASE_CREATE_IF_MISSING: env.bool(true),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
    DATABASE_CONNECT_TIMEOUT_MS: positiveMs(10_000),
    KAFKA_BROKERS: env.hostPortList('127.0.0.1:19092'),
    SHARD_LIFECYCLE_TOPIC: z.string().min(1).default(TOPIC_NAMES.shardLifecycle),
    /** Partitions when this service has to create the lifecycle topic. */
    SHARD_LIFECYCLE_PARTITIONS: z.coerce.number().int().min(1).default(3),
    /** What RegisterShard tells shards; the failure threshold should span several intervals. */
    HEARTBEAT_INTERVAL_MS: positiveMs(200),
    /** A shard silent for longer than this is FAILED. Sub-second values are fine (e.g. 600). */
    FAILURE_AFTER_MS: positiveMs(1_000),
    /**
     * After a restart, shards known from before get this long to heartbeat again before they are
     * failed (their adapters back off while the registry is away). Shards heard from since the
     * start get FAILURE_AFTER_MS as usual.
     */
    RESTART_GRACE_MS: env.durationMs(5_000),
    /**
     * Before failing a silent shard, ask it directly (its adapter's GetLoad) for this long; a shard
     * that answers as itself, engine ready, is only slow to heartbeat and stays. 0: no probe, the
     * silence alone fails the shard.
     */
    FAILURE_PROBE_TIMEOUT_MS: z.coerce.number().int().min(0).max(10_000).default(250),
    /** How often the failure detector looks; bounds how late a failure is noticed. */
    FAILURE_CHECK_INTERVAL_MS: positiveMs(100),
    /** Changes a watcher may lag behind before it is cut off and must re-watch. */
    WATCH_MAX_BUFFERED: z.coerce.number().int().min(1).default(100_000),
    /** Assignments per WatchAssignments snapshot message. */
    WATCH_SNAPSHOT_CHUNK: z.coerce.number().int().min(1).max(50_000).default(5_000),
    SHUTDOWN_GRACE_MS: env.durationMs(5_000),
    /**
     * Several instances may run on one database; one leads and serves, the others stand by. A
     * standby asks for the leadership this often, and the leader checks its lock connection this
     * often (docs/adr/0008).
     */
    LEADER_RETRY_MS: positiveMs(500),
  })
  .superRefine((config, context) => {
    if (config.FAILURE_AFTER_MS <= config.HEARTBEAT_INTERVAL_MS) {
      context.addIssue({
        code: 'custom',
        path: ['FAILURE_AFTER_MS'],
        message: `must exceed HEARTBEAT_INTERVAL_MS (${config.HEARTBEAT_INTERVAL_MS}), or every shard fails between two heartbeats`,
      });
    }
  });

export type ShardMetadataConfig = z.infer<typeof shardMetadataConfigSchema>;

export const SHARD_METADATA_CONFIG = Symbol('ShardMetadataConfig');

export function loadShardMetadataConfig(
  environment: NodeJS.ProcessEnv = process.env,
): ShardMetadataConfig {
  return loadConfig('shard-metadata', shardMetadataConfigSchema, environment);
}
