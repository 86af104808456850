import type { Notification, Pool, PoolClient } from 'pg';
import type { EncodedEvent } from '../cloudevents.js';
import type { MessagingLogger } from '../logger.js';
import { connectPostgres } from '../postgres.js';
import type { OutboxNames } from './outbox-schema.js';
import { ReadFloor } from './read-floor.js';

/** An unpublished outbox row, as the relay reads it. */
export interface OutboxRow {
  readonly id: string;
  readonly event_id: string;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly payload: Buffer;
  readonly headers: Record<string, unknown>;
  readonly lag_ms: number;
}

/** The claim's answer: the read's snapshot facts on every row, and a row or nulls. */
type ClaimedRow = { readonly horizon: string; readonly stamp: string | null } & (
  OutboxRow | { readonly [column in keyof OutboxRow]: null }
);

/**
 * The relay's own connection: it LISTENs for writers' hints, holds the outbox's leadership (a
 * session advisory lock: one relay per outbox publishes, the others stand by) and reads the
 * batches. Leadership lives exactly as long as this connection: when it breaks, the lock is gone
 * and the relay reads nothing more through it, so a standby can take over.
 */
export class RelaySession {
  private broken = false;
  private leading = false;
  private readonly floor = new ReadFloor();

  private constructor(
    private readonly client: PoolClient,
    private readonly names: OutboxNames,
    private readonly onNotify: () => void,
    private readonly logger: MessagingLogger,
  ) {
    client.on('notification', this.notification);
    client.on('error', this.lost);
  }

  static async open(
    pool: Pool,
    names: OutboxNames,
    connectTimeoutMs: number,
    onNotify: () => void,
    logger: MessagingLogger,
  ): Promise<RelaySession> {
    const session = new RelaySession(
      await connectPostgres(pool, connectTimeoutMs),
      names,
      onNotify,
      logger,
    );
    try {
      await session.client.query(`LISTEN "${names.channel}"`);
    } catch (error) {
      session.close(error);
      throw error;
    }
    return session;
  }

  get usable(): boolean {
    return !this.broken;
  }

  /** Takes leadership if no other relay holds it; true while this session holds it. */
  async lead(): Promise<boolean> {
    // A session lock is held until the session ends: once taken, there is no need to ask again.
    if (this.leading) return true;
    const { rows } = await this.query<{ leading: boolean }>(
      undefined,
      'SELECT pg_try_advisory_lock(hashtext($1)) AS leading',
      [this.names.lockName],
    );
    this.leading = rows[0]?.leading === true;
    return this.leading;
  }

  /**
   * The oldest unpublished rows, in id order, except those already being sent. Nothing is marked:
   * a row is marked only once Kafka has acknowledged it, so a crash before that sends it again.
   * The read starts above the session's floor (see ReadFloor), which it moves up as it goes.
   */
  async claim(limit: number, sending: readonly string[]): Promise<OutboxRow[]> {
    // Prepared (named) on this connection: parsed and planned once, not on every read. One row
    // always comes back, carrying the snapshot's xmin and the stamp; its row columns are null when
    // nothing is unpublished.
    const { rows } = await this.query<ClaimedRow>(
      `spillway_outbox_claim_${this.names.schema}`,
      `SELECT snap.horizon, snap.stamp, unpublished.*
         FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon,
                      CASE WHEN $4 THEN pg_current_xact_id()::text END AS stamp) snap
         LEFT JOIN LATERAL (
           SELECT id, event_id, topic, key, type, payload, headers,
                  extract(epoch FROM clock_timestamp() - created_at) * 1000 AS lag_ms
             FROM ${this.names.table}
            WHERE published_at IS NULL AND id > $3 AND id NOT IN (SELECT unnest($2::bigint[]))
            ORDER BY id
            LIMIT $1) unpublished ON true`,
      [limit, sending, this.floor.value.toString(), this.floor.wantsStamp],
    );
    const found = rows.filter((row): row is ClaimedRow & OutboxRow => row.id !== null);
    const read = rows[0];
    if (read)
      this.floor.advance({
        found: found.map((row) => BigInt(row.id)),
        inFlight: sending.map(BigInt),
        horizon: BigInt(read.horizon),
        stamp: read.stamp === null ? undefined : BigInt(read.stamp),
      });
    return found; // with the two snapshot columns still on: harmless, and no copy per row
  }

  /** Rows with ids at or below this are published: the next read starts above it. */
  get floorId(): bigint {
    return this.floor.value;
  }

  /** Gives up leadership and the connection; `error` discards the connection instead of reusing it. */
  async end(): Promise<void> {
    if (this.broken) return;
    try {
      await this.client.query(`UNLISTEN "${this.names.channel}"`);
      await this.client.query('SELECT pg_advisory_unlock_all()');
      this.close();
    } catch (error) {
      this.close(error);
    }
  }

  /**
   * A failed statement discards the connection: whatever the cause, the next cycle starts on a
   * fresh one rather than guess whether this one (and its lock) is still good.
   */
  private async query<R extends object>(
    name: string | undefined,
    text: string,
    values: unknown[],
  ): Promise<{ rows: R[] }> {
    if (this.broken) throw new Error(`the relay's connection for ${this.names.table} is closed`);
    try {
      return await this.client.query<R>(
        name === undefined ? { text, values } : { name, text, values },
      );
    } catch (error) {
      this.close(error);
      throw error;
    }
  }

  close(error?: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.client.off('notification', this.notification);
    this.client.off('error', this.lost);
    this.client.release(error === undefined ? undefined : asError(error));
  }

  private readonly notification = (message: Notification): void => {
    if (message.channel === this.names.channel) this.onNotify();
  };

  // Losing the connection costs leadership and latency, never rows: nothing unacknowledged is marked.
  private readonly lost = (error: Error): void => {
    this.logger.warn('outbox relay lost its PostgreSQL connection; reconnecting', {
      outbox: this.names.table,
      error: error.message,
    });
    this.close(error);
  };
}

/**
 * Marks acknowledged rows published, `published_at` being when Kafka acknowledged them (not when
 * the mark ran: it waits for a pooled connection and runs beside the next send). Any connection
 * will do: a row Kafka has acknowledged may be marked by anyone, and marking on the pool keeps the
 * mark's commit off the session, where the next read waits.
 */
export async function markPublished(
  pool: Pool,
  names: OutboxNames,
  rows: readonly OutboxRow[],
  acknowledgedAt: Date,
): Promise<void> {
  // Planned on every call, never prepared. A prepared statement keeps the plan it settles on after
  // its first runs: a pooled connection that marked first while the outbox was nearly empty kept
  // a sequential scan, and every later mark read the whole outbox (27 ms a mark early in a bench
  // run, 440 ms at 265,000 rows: the relay fell 20 s behind). Planned afresh, the mark sees the
  // table's size and looks its rows up by the primary key.
  await pool.query(`UPDATE ${names.table} SET published_at = $2 WHERE id = ANY($1::bigint[])`, [
    rows.map((row) => row.id),
    acknowledgedAt,
  ]);
}

export function toEncodedEvent(row: OutboxRow): EncodedEvent {
  const { ce_source: source, ce_time: time, ...rest } = row.headers;
  if (typeof source !== 'string' || typeof time !== 'string') {
    throw new Error(`outbox row ${row.id} has no ce_source/ce_time in its headers`);
  }
  const traceContext: Record<string, string> = {};
  for (const [name, value] of Object.entries(rest))
    if (typeof value === 'string') traceContext[name] = value;
  return {
    topic: row.topic,
    id: row.event_id,
    type: row.type,
    source,
    time,
    key: row.key,
    data: row.payload,
    traceContext,
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
