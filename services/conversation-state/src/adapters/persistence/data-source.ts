import type { EventEmitter } from 'node:events';
import { DataSource } from 'typeorm';
import { EVENT_STORE_ENTITIES } from './event-store.entities.js';
import { CreateEventStore1767225600000 } from './migrations/1767225600000-create-event-store.js';
import { OutboxWithoutEventIdIndex1767312000000 } from './migrations/1767312000000-outbox-without-event-id-index.js';
import { JsonSnapshots1767312000001 } from './migrations/1767312000001-json-snapshots.js';

export interface EventStoreDataSourceOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
}

/** A TypeORM DataSource over the service's database; call initialize(), then runMigrations(). */
export function createEventStoreDataSource(options: EventStoreDataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: EVENT_STORE_ENTITIES,
    migrations: [
      CreateEventStore1767225600000,
      OutboxWithoutEventIdIndex1767312000000,
      JsonSnapshots1767312000001,
    ],
    migrationsTableName: 'typeorm_migrations',
    // One transaction for the whole set: a crash mid-way leaves the schema as it was.
    migrationsTransactionMode: 'all',
    synchronize: false,
    // TypeORM's own error log prints every failed query with its parameters, which hold users'
    // message text. Failures reach our logs as DomainErrors instead, without the content.
    logging: false,
    poolSize: options.poolSize ?? 10,
    connectTimeoutMS: options.connectTimeoutMs ?? 10_000,
    extra: {
      // TypeORM listens for errors on idle pool clients only; a connection lost while checked out
      // (a database restart mid-append) would otherwise emit an unheard 'error' and kill the
      // process. The query it was running fails and is reported as DEPENDENCY.UNAVAILABLE.
      onConnect: (client: EventEmitter) => {
        client.on('error', () => undefined);
      },
    },
  });
}

/** Runs pending migrations with a session advisory lock, so replicas starting together take turns. */
export async function migrateEventStore(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(
      `SELECT pg_advisory_lock(hashtext('spillway.conversation-state.migrations'))`,
    );
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    await runner
      .query(`SELECT pg_advisory_unlock(hashtext('spillway.conversation-state.migrations'))`)
      .catch(() => undefined);
    await runner.release();
  }
}
