import { topics, defineTopic } from '@spillway/messaging';
import { isDomainError } from '@spillway/errors';
import { createTestDatabase, type TestDatabase } from '@spillway/testing';
import type { DataSource } from 'typeorm';
import { openDataSource } from '../src/adapters/persistence/data-source.js';
import {
  claimTerm,
  type LeaderTerm,
  POOL_APPLICATION_NAME_PREFIX,
} from '../src/adapters/persistence/leader-term.js';
import { TypeOrmAssignmentRepository } from '../src/adapters/persistence/typeorm-assignment.repository.js';
import { TypeOrmModelRoutesRepository } from '../src/adapters/persistence/typeorm-model-routes.repository.js';
import { TypeOrmShardRepository } from '../src/adapters/persistence/typeorm-shard.repository.js';
import type { Shard } from '../src/domain/shard.js';

// Fencing of the registry's writes (docs/adr/0008), against the real PostgreSQL: an instance whose
// leadership ended must not write after the next leader loaded, whether its write was already in
// flight or started later.

const lifecycleTopic = defineTopic('test.leader-term.lifecycle', topics.shardLifecycle.codec);

interface Instance {
  readonly name: string;
  readonly dataSource: DataSource;
}

const aShard = (shardId: string): Shard => ({
  shardId,
  pool: 'pool-term',
  model: 'llama',
  modelVersion: 'v1',
  zone: 'zone-a',
  endpoint: '127.0.0.1:1',
  maxInFlightStreams: 8,
  kvCapacityTokens: 1_000,
  hardwareProfile: 'h100',
  costPerHour: 1,
  state: 'ready',
  load: undefined,
  lastHeartbeatAtMs: 1,
  registeredAtMs: 1,
  revision: 0,
});

/** Retries while the instance's own pool is still noticing its terminated connections. */
async function settledError(write: () => Promise<unknown>): Promise<unknown> {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await write();
      return undefined;
    } catch (error) {
      if (!(error instanceof Error) || !/unavailable \(/.test(error.message)) return error;
    }
  }
  throw new Error('the write kept failing on terminated connections');
}

describe('shard-metadata leader term (real PostgreSQL)', () => {
  let database: TestDatabase;
  const opened: DataSource[] = [];
  let instance = 0;

  const open = async (): Promise<Instance> => {
    const name = `${POOL_APPLICATION_NAME_PREFIX}test-${++instance}`;
    const dataSource = await openDataSource({
      url: database.url,
      poolSize: 3,
      connectTimeoutMs: 5_000,
      applicationName: name,
    });
    opened.push(dataSource);
    return { name, dataSource };
  };
  const claim = (leader: Instance): Promise<LeaderTerm> =>
    claimTerm(leader.dataSource, leader.name, 5_000);
  const storedAssignment = async (conversationId: string): Promise<unknown> => {
    const rows = (await database.pool.query(
      'SELECT shard_id, version FROM assignments WHERE conversation_id = $1',
      [conversationId],
    )) as { rows: unknown[] };
    return rows.rows[0];
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const dataSource of opened) {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    }
    await database?.cleanup();
  });

  it('gives every leader a higher term than the one before', async () => {
    const first = await claim(await open());
    const second = await claim(await open());
    const third = await claim(await open());
    expect([second.term - first.term, third.term - second.term]).toEqual([1, 1]);
  });

  it('refuses every write of an instance whose term has passed, and writes nothing', async () => {
    const old = await open();
    const oldTerm = await claim(old);
    const oldAssignments = new TypeOrmAssignmentRepository(old.dataSource, oldTerm);
    const pinned = await oldAssignments.compareAndSet(
      {
        conversationId: 'conv-fenced',
        tenantId: 't',
        shardId: 'shard-a',
        expectedVersion: 0,
        reason: 'placed',
      },
      1,
    );
    expect(pinned.applied).toBe(true);

    const next = await open();
    const nextTerm = await claim(next);
    expect(nextTerm.term).toBe(oldTerm.term + 1);

    // A move of the pinned conversation, a new pin, a route table and a shard lifecycle change:
    // each is refused as retryable, naming the term that leads now.
    const writes: [string, () => Promise<unknown>][] = [
      [
        'move',
        () =>
          oldAssignments.compareAndSet(
            {
              conversationId: 'conv-fenced',
              tenantId: 't',
              shardId: 'shard-b',
              expectedVersion: 1,
              reason: 'spill',
            },
            2,
          ),
      ],
      [
        'new pin',
        () =>
          oldAssignments.compareAndSet(
            {
              conversationId: 'conv-after',
              tenantId: 't',
              shardId: 'shard-a',
              expectedVersion: 0,
              reason: 'placed',
            },
            2,
          ),
      ],
      [
        'model routes',
        () =>
          new TypeOrmModelRoutesRepository(old.dataSource, oldTerm).compareAndSet(
            { table: { models: {} }, expectedGeneration: 0, reason: 'rollback' },
            2,
          ),
      ],
      [
        'shard save',
        () =>
          new TypeOrmShardRepository(
            old.dataSource,
            { lifecycleTopic, source: '/test' },
            oldTerm,
          ).save(aShard('shard-a'), []),
      ],
    ];
    for (const [what, write] of writes) {
      const error = await settledError(write);
      expect({ what, code: isDomainError(error) ? error.code : error }).toEqual({
        what,
        code: 'DEPENDENCY.UNAVAILABLE',
      });
      expect((error as Error).message).toContain(`leads now (term ${nextTerm.term})`);
    }

    expect(await storedAssignment('conv-fenced')).toEqual({ shard_id: 'shard-a', version: '1' });
    expect(await storedAssignment('conv-after')).toBeUndefined();
    const routes = await database.pool.query('SELECT count(*)::int AS n FROM model_routes');
    expect(routes.rows[0]).toEqual({ n: 0 });
    const shards = await database.pool.query('SELECT count(*)::int AS n FROM shards');
    expect(shards.rows[0]).toEqual({ n: 0 });

    // The new leader writes as usual.
    const moved = await new TypeOrmAssignmentRepository(next.dataSource, nextTerm).compareAndSet(
      {
        conversationId: 'conv-fenced',
        tenantId: 't',
        shardId: 'shard-b',
        expectedVersion: 1,
        reason: 'spill',
      },
      3,
    );
    expect(moved.applied).toBe(true);
    expect(await storedAssignment('conv-fenced')).toEqual({ shard_id: 'shard-b', version: '2' });
  });

  it("settles the previous leader's write in flight before the claim returns", async () => {
    const old = await open();
    await claim(old);
    const inFlight = old.dataSource.createQueryRunner();
    await inFlight.connect();
    await inFlight.startTransaction();
    await inFlight.query(
      `INSERT INTO assignments (conversation_id, tenant_id, shard_id, version, updated_at_ms, reason)
       VALUES ('conv-in-flight', 't', 'shard-a', 1, 1, 'placed')`,
    );

    await claim(await open());

    // The claim ended the old leader's backend: its transaction is gone, and so is the row it
    // had not committed. Anything loaded from here on sees exactly what committed.
    await expect(inFlight.commitTransaction()).rejects.toThrow();
    await inFlight.release().catch(() => undefined);
    expect(await storedAssignment('conv-in-flight')).toBeUndefined();
  });
});
