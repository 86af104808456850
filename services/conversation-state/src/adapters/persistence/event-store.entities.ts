import { EntitySchema } from 'typeorm';

// TypeORM's view of the tables, for the query builder on read paths. The DDL lives in migrations/;
// the append path writes with hand-written SQL for one round trip per statement.

export interface StreamRow {
  id: string;
  tenantId: string;
  version: number;
  model: string;
  shardId: string;
  closed: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const StreamEntity = new EntitySchema<StreamRow>({
  name: 'Stream',
  tableName: 'streams',
  columns: {
    id: { type: 'text', primary: true },
    tenantId: { type: 'text', name: 'tenant_id' },
    version: { type: 'integer' },
    model: { type: 'text' },
    shardId: { type: 'text', name: 'shard_id' },
    closed: { type: 'boolean' },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});

export interface EventRow {
  globalPosition: string;
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  payload: Buffer;
  metadata: Record<string, unknown>;
  idempotencyKey: string | null;
  occurredAt: Date;
}

export const EventEntity = new EntitySchema<EventRow>({
  name: 'Event',
  tableName: 'events',
  columns: {
    globalPosition: {
      type: 'bigint',
      primary: true,
      generated: 'increment',
      name: 'global_position',
    },
    eventId: { type: 'uuid', name: 'event_id' },
    streamId: { type: 'text', name: 'stream_id' },
    version: { type: 'integer' },
    type: { type: 'text' },
    schemaVersion: { type: 'integer', name: 'schema_version' },
    payload: { type: 'bytea' },
    metadata: { type: 'jsonb' },
    idempotencyKey: { type: 'text', name: 'idempotency_key', nullable: true },
    occurredAt: { type: 'timestamptz', name: 'occurred_at' },
  },
});

export interface SnapshotRow {
  streamId: string;
  version: number;
  schemaVersion: number;
  state: unknown;
}

export const SnapshotEntity = new EntitySchema<SnapshotRow>({
  name: 'Snapshot',
  tableName: 'snapshots',
  columns: {
    streamId: { type: 'text', primary: true, name: 'stream_id' },
    version: { type: 'integer' },
    schemaVersion: { type: 'integer', name: 'schema_version' },
    state: { type: 'json' },
  },
});

export const EVENT_STORE_ENTITIES = [StreamEntity, EventEntity, SnapshotEntity];
