import { createHash } from 'node:crypto';
import { escapeIdentifier, type Pool } from 'pg';
import type { ProcessedEventStore } from '../ports.js';
import { type Queryable, assertSqlName } from '../postgres.js';

export interface PostgresProcessedEventsOptions {
  readonly pool: Pool;
  readonly groupId: string;
  /** Default `public`. */
  readonly schema?: string;
}

/**
 * Durable de-duplication for one consumer group: table `<schema>.processed_events_<group>`.
 * A handler that writes to the same database can record the id in its own transaction with
 * `rememberIn(client, id)`, which makes "handled" and "recorded as handled" one commit.
 */
export class PostgresProcessedEvents implements ProcessedEventStore {
  readonly table: string;

  constructor(private readonly options: PostgresProcessedEventsOptions) {
    const schema = options.schema ?? 'public';
    assertSqlName(schema, 'schema');
    this.table = `${escapeIdentifier(schema)}.${escapeIdentifier(processedEventsTableName(options.groupId))}`;
  }

  async migrate(): Promise<void> {
    await this.options.pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         event_id text PRIMARY KEY,
         processed_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  }

  async has(eventId: string): Promise<boolean> {
    const result = await this.options.pool.query(
      `SELECT 1 FROM ${this.table} WHERE event_id = $1`,
      [eventId],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async remember(eventId: string): Promise<void> {
    await this.rememberIn(this.options.pool, eventId);
  }

  /** Records the id through `db` (e.g. the handler's transaction); false if it was already there. */
  async rememberIn(db: Queryable, eventId: string): Promise<boolean> {
    const result = await db.query(
      `INSERT INTO ${this.table} (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING`,
      [eventId],
    );
    return (result.rowCount ?? 0) === 1;
  }
}

/**
 * `processed_events_<slug>_<hash>`: readable, within PostgreSQL's 63-byte identifier limit, and
 * distinct for group ids that slug alike (`a.b` and `a_b`).
 */
export function processedEventsTableName(groupId: string): string {
  const slug = groupId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 36);
  const hash = createHash('sha256').update(groupId).digest('hex').slice(0, 8);
  return `processed_events_${slug}_${hash}`;
}
