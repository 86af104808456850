import { type events } from '@spillway/contracts';
import { enqueueOutbox, type Queryable, type Topic } from '@spillway/messaging';
import type { DataSource, EntityManager } from 'typeorm';
import type { ShardRepository } from '../../application/ports/shard.repository.port.js';
import type { ShardLifecycleEvent } from '../../domain/shard-events.js';
import type { Shard, ShardState } from '../../domain/shard.js';
import { againstDatabase } from './database-unavailable.js';
import { assertTermHolds, type LeaderTerm } from './leader-term.js';
import { ShardEntity } from './shard.entity.js';
import { toLifecycleMessage } from './shard-lifecycle-event.mapper.js';

export interface ShardRepositoryOptions {
  readonly lifecycleTopic: Topic<events.ShardLifecycleEvent>;
  /** `ce_source` of the lifecycle events. */
  readonly source: string;
}

/**
 * Shards in PostgreSQL through TypeORM; lifecycle events through the transactional outbox. A save
 * checks this instance's leader term first in its transaction (leader-term.ts).
 */
export class TypeOrmShardRepository implements ShardRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ShardRepositoryOptions,
    private readonly term: LeaderTerm,
  ) {}

  async loadAll(): Promise<Shard[]> {
    const rows = await this.dataSource
      .getRepository(ShardEntity)
      .find({ order: { shardId: 'ASC' } });
    return rows.map(toShard);
  }

  async save(shard: Shard, lifecycle: readonly ShardLifecycleEvent[]): Promise<void> {
    await againstDatabase('save shard', () => this.saveInTransaction(shard, lifecycle));
  }

  private async saveInTransaction(
    shard: Shard,
    lifecycle: readonly ShardLifecycleEvent[],
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await assertTermHolds(manager, this.term, 'save shard');
      await manager.getRepository(ShardEntity).upsert(toEntity(shard), ['shardId']);
      const outgoing = lifecycle.map((event) => ({
        key: event.shardId,
        event: toLifecycleMessage(shard, event),
        time: new Date(event.occurredAtMs),
      }));
      await enqueueOutbox(await rawClient(manager), this.options.lifecycleTopic, outgoing, {
        source: this.options.source,
      });
    });
  }
}

/**
 * The pg client that runs the transaction. enqueueOutbox speaks pg, and the outbox rows must be
 * written on the very connection that holds the transaction.
 */
async function rawClient(manager: EntityManager): Promise<Queryable> {
  const queryRunner = manager.queryRunner;
  if (!queryRunner?.isTransactionActive)
    throw new Error('the outbox must be written inside a transaction');
  return (await queryRunner.connect()) as Queryable;
}

function toEntity(shard: Shard): ShardEntity {
  return Object.assign(new ShardEntity(), {
    shardId: shard.shardId,
    pool: shard.pool,
    model: shard.model,
    modelVersion: shard.modelVersion,
    zone: shard.zone,
    endpoint: shard.endpoint,
    state: shard.state,
    maxInFlightStreams: shard.maxInFlightStreams,
    kvCapacityTokens: shard.kvCapacityTokens,
    hardwareProfile: shard.hardwareProfile,
    costPerHour: shard.costPerHour,
    lastHeartbeatAtMs: shard.lastHeartbeatAtMs,
    registeredAtMs: shard.registeredAtMs,
  });
}

function toShard(row: ShardEntity): Shard {
  return {
    shardId: row.shardId,
    pool: row.pool,
    model: row.model,
    modelVersion: row.modelVersion,
    zone: row.zone,
    endpoint: row.endpoint,
    state: row.state as ShardState,
    maxInFlightStreams: row.maxInFlightStreams,
    kvCapacityTokens: row.kvCapacityTokens,
    hardwareProfile: row.hardwareProfile,
    costPerHour: row.costPerHour,
    load: undefined,
    lastHeartbeatAtMs: row.lastHeartbeatAtMs,
    registeredAtMs: row.registeredAtMs,
    revision: 0,
  };
}
