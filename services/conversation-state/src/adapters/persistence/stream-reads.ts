import type { DataSource } from 'typeorm';
import type {
  ConversationPage,
  RecordedEvent,
  Result,
  StreamSlice,
} from '../../application/ports/conversation-event-store.port.js';
import { conversationNotFound, invalidField } from '../../domain/conversation.errors.js';
import { exists, type ConversationDetails } from '../../domain/conversation.state.js';
import { EventEntity, StreamEntity, type EventRow } from './event-store.entities.js';
import { recordedEventOf, type RawEventRow } from './event-rows.js';
import { select, type StreamStates } from './stream-states.js';

const MAX_READ_COUNT = 10_000;

interface StreamHead {
  readonly tenant_id: string;
  readonly version: number;
}

/** The read side of the store: no locks, tenant checked on every call. */
export class StreamReads {
  constructor(
    private readonly dataSource: DataSource,
    private readonly states: StreamStates,
  ) {}

  async load(tenantId: string, conversationId: string): Promise<Result<ConversationDetails>> {
    const state = await this.states.current(this.dataSource, tenantId, conversationId);
    return state && exists(state)
      ? { ok: true, value: state }
      : { ok: false, error: conversationNotFound(conversationId) };
  }

  async read(
    tenantId: string,
    conversationId: string,
    fromVersion: number,
    maxCount: number,
  ): Promise<Result<StreamSlice>> {
    const stream = await this.streamOf(tenantId, conversationId);
    if (!stream) return { ok: false, error: conversationNotFound(conversationId) };
    const limit = maxCount === 0 ? MAX_READ_COUNT : Math.min(maxCount, MAX_READ_COUNT);
    const rows = await this.dataSource
      .getRepository(EventEntity)
      .createQueryBuilder('event')
      .where('event.streamId = :conversationId', { conversationId })
      .andWhere('event.version >= :fromVersion', { fromVersion: Math.max(1, fromVersion) })
      .orderBy('event.version', 'ASC')
      .limit(limit)
      .getMany();
    const events: RecordedEvent[] = rows.map((row) => recordedEventOf(rawRowOf(row), tenantId));
    return { ok: true, value: { events, currentVersion: stream.version } };
  }

  async list(
    tenantId: string,
    pageSize: number,
    pageToken: string,
  ): Promise<Result<ConversationPage>> {
    const after = pageToken === '' ? '' : decodePageToken(pageToken);
    if (after === undefined) {
      return {
        ok: false,
        error: invalidField(
          'page_token',
          'is not a token this service returned; pass next_page_token as given',
        ),
      };
    }
    const query = this.dataSource
      .getRepository(StreamEntity)
      .createQueryBuilder('stream')
      .where('stream.tenantId = :tenantId', { tenantId })
      .orderBy('stream.id', 'ASC')
      .limit(pageSize + 1);
    if (after !== '') query.andWhere('stream.id > :after', { after });
    const rows = await query.getMany();
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      ok: true,
      value: {
        conversations: page.map((row) => ({
          conversationId: row.id,
          tenantId: row.tenantId,
          model: row.model,
          version: row.version,
          closed: row.closed,
          shardId: row.shardId,
          createdAtMs: row.createdAt.getTime(),
          updatedAtMs: row.updatedAt.getTime(),
        })),
        nextPageToken: rows.length > pageSize && last ? encodePageToken(last.id) : '',
      },
    };
  }

  /** The stream if it exists and belongs to `tenantId`; another tenant's looks missing. */
  private async streamOf(
    tenantId: string,
    conversationId: string,
  ): Promise<StreamHead | undefined> {
    const [stream] = await select<StreamHead>(
      this.dataSource,
      'SELECT tenant_id, version FROM streams WHERE id = $1',
      [conversationId],
    );
    return stream && stream.tenant_id === tenantId ? stream : undefined;
  }
}

function rawRowOf(row: EventRow): RawEventRow {
  return {
    global_position: row.globalPosition,
    event_id: row.eventId,
    stream_id: row.streamId,
    version: row.version,
    type: row.type,
    schema_version: row.schemaVersion,
    payload: row.payload,
    metadata: row.metadata,
  };
}

function encodePageToken(afterId: string): string {
  return Buffer.from(JSON.stringify({ after: afterId })).toString('base64url');
}

function decodePageToken(token: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      after?: unknown;
    };
    return typeof parsed.after === 'string' ? parsed.after : undefined;
  } catch {
    return undefined;
  }
}
