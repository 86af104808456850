import type { DataSource, QueryRunner } from 'typeorm';
import {
  exists,
  initialState,
  replay,
  type ConversationDetails,
  type ConversationState,
} from '../../domain/conversation.state.js';
import { EVENT_COLUMNS, recordedEventOf, type RawEventRow } from './event-rows.js';
import { SNAPSHOT_SCHEMA_VERSION, stateFromSnapshot } from './snapshots.js';
import { StateCache } from './state-cache.js';

export type Database = QueryRunner | DataSource;

export async function select<T>(
  db: Database,
  sql: string,
  parameters: readonly unknown[],
): Promise<T[]> {
  return (await db.query(sql, [...parameters])) as T[];
}

/** The stream row, and the snapshot and tail (as arrays, one row in all) when not cached. */
interface CurrentStateRow {
  readonly version: number;
  readonly state: unknown;
  readonly global_positions: string[] | null;
  readonly event_ids: string[] | null;
  readonly versions: number[] | null;
  readonly types: string[] | null;
  readonly schema_versions: number[] | null;
  readonly payloads: Buffer[] | null;
  readonly metadata: (RawEventRow['metadata'] | null)[] | null;
}

// `s.version <> $3` skips snapshot and tail when the cached state is already current.
const CURRENT_STATE_SQL = `
SELECT s.version, sn.state, tail.*
  FROM streams s
  LEFT JOIN snapshots sn
    ON sn.stream_id = s.id AND sn.schema_version = $2 AND sn.version <= s.version
   AND s.version <> $3
  LEFT JOIN LATERAL (
    SELECT array_agg(e.global_position::text ORDER BY e.version) AS global_positions,
           array_agg(e.event_id::text ORDER BY e.version) AS event_ids,
           array_agg(e.version ORDER BY e.version) AS versions,
           array_agg(e.type ORDER BY e.version) AS types,
           array_agg(e.schema_version ORDER BY e.version) AS schema_versions,
           array_agg(e.payload ORDER BY e.version) AS payloads,
           array_agg(e.metadata ORDER BY e.version) AS metadata
      FROM events e
     WHERE e.stream_id = s.id AND e.version > coalesce(sn.version, 0) AND e.version <= s.version
       AND s.version <> $3) tail ON true
 WHERE s.id = $1 AND s.tenant_id = $4`;

function tailOf(row: CurrentStateRow, conversationId: string): RawEventRow[] {
  return (row.event_ids ?? []).map((eventId, index) => ({
    global_position: row.global_positions?.[index] ?? '0',
    event_id: eventId,
    stream_id: conversationId,
    version: row.versions?.[index] ?? 0,
    type: row.types?.[index] ?? '',
    schema_version: row.schema_versions?.[index] ?? 0,
    payload: row.payloads?.[index] ?? Buffer.alloc(0),
    metadata: row.metadata?.[index] ?? null,
  }));
}

/** Conversation states: from memory when current, else the latest snapshot plus the events after it. */
export class StreamStates {
  private readonly cache: StateCache;

  constructor(cacheSize: number) {
    this.cache = new StateCache(cacheSize);
  }

  /** The cached state whatever its version; the caller must confirm it is still current. */
  peek(conversationId: string): ConversationDetails | undefined {
    return this.cache.peek(conversationId);
  }

  remember(state: ConversationState): void {
    if (exists(state)) this.cache.set(state);
  }

  /**
   * The current state of a tenant's conversation in one round trip: the stream row and, unless the
   * cached state is at its version, the latest snapshot and the events after it. Undefined when
   * the stream does not exist or belongs to another tenant.
   */
  async current(
    db: Database,
    tenantId: string,
    conversationId: string,
  ): Promise<ConversationState | undefined> {
    // Held, not looked up again after the query: a concurrent append may replace the cache entry
    // meanwhile, and the answer (without snapshot and tail) is only about this version.
    const cached = this.cache.peek(conversationId);
    const [row] = await select<CurrentStateRow>(db, CURRENT_STATE_SQL, [
      conversationId,
      SNAPSHOT_SCHEMA_VERSION,
      cached?.version ?? -1,
      tenantId,
    ]);
    if (!row) return undefined;
    if (cached && cached.version === row.version)
      return this.cache.get(conversationId, row.version) ?? cached;
    const base = row.state === null ? initialState() : stateFromSnapshot(row.state);
    const state = replay(
      tailOf(row, conversationId).map((event) => recordedEventOf(event, tenantId).event),
      base,
    );
    this.remember(state);
    return state;
  }

  async at(db: Database, conversationId: string, version: number): Promise<ConversationState> {
    const cached = this.cache.get(conversationId, version);
    if (cached) return cached;
    const [snapshot] = await select<{ version: number; state: unknown }>(
      db,
      'SELECT version, state FROM snapshots WHERE stream_id = $1 AND schema_version = $2 AND version <= $3',
      [conversationId, SNAPSHOT_SCHEMA_VERSION, version],
    );
    const base = snapshot ? stateFromSnapshot(snapshot.state) : initialState();
    const rows = await select<RawEventRow>(
      db,
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 AND version <= $3 ORDER BY version`,
      [conversationId, base.version, version],
    );
    const tenantId = exists(base) ? base.tenantId : '';
    const state = replay(
      rows.map((row) => recordedEventOf(row, tenantId).event),
      base,
    );
    this.remember(state);
    return state;
  }
}
