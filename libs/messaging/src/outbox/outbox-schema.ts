import { escapeIdentifier, type Pool } from 'pg';
import { assertSqlName, connectPostgres, type Queryable } from '../postgres.js';

export interface OutboxLocation {
  /** The schema that holds `outbox`; default `public`. One outbox per schema (per service). */
  readonly schema?: string;
}

export interface OutboxNames {
  readonly schema: string;
  /** Quoted, schema-qualified table name. */
  readonly table: string;
  /** LISTEN/NOTIFY channel the relay wakes on. */
  readonly channel: string;
  /** Key of the advisory lock that makes one relay at a time publish from this outbox. */
  readonly lockName: string;
}

export function outboxNames(location: OutboxLocation = {}): OutboxNames {
  const schema = location.schema ?? 'public';
  assertSqlName(schema, 'schema');
  return {
    schema,
    table: `${escapeIdentifier(schema)}.outbox`,
    channel: `spillway_outbox_${schema}`,
    lockName: `spillway.outbox.${schema}`,
  };
}

/** The DDL, for services that run migrations with their own tool. Idempotent. */
export function outboxMigrationSql(location: OutboxLocation = {}): string {
  const { schema, table } = outboxNames(location);
  return `
CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(schema)};
CREATE TABLE IF NOT EXISTS ${table} (
  id           bigserial PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  topic        text NOT NULL,
  key          text NOT NULL,
  type         text NOT NULL,
  payload      bytea NOT NULL,
  headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  published_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON ${table} (id) WHERE published_at IS NULL;
`;
}

/** Creates the outbox. Safe to run from several processes at once (serialised by an advisory lock). */
export async function migrateOutbox(pool: Pool, location: OutboxLocation = {}): Promise<void> {
  const { lockName } = outboxNames(location);
  const client = await connectPostgres(pool);
  try {
    await client.query('BEGIN');
    // Concurrent CREATE ... IF NOT EXISTS can still collide on the catalog; the lock orders them.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${lockName}.migrate`]);
    await client.query(outboxMigrationSql(location));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Deletes rows published more than `olderThanMs` ago; returns how many. */
export async function pruneOutbox(
  db: Queryable,
  olderThanMs: number,
  location: OutboxLocation = {},
): Promise<number> {
  const { table } = outboxNames(location);
  const result = await db.query(
    `DELETE FROM ${table} WHERE published_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [olderThanMs],
  );
  return result.rowCount ?? 0;
}
