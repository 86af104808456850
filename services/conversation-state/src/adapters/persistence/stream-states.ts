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
