import { outboxMigrationSql } from '@spillway/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Streams, events, snapshots and the transactional outbox (libs/messaging's DDL). */
export class CreateEventStore1767225600000 implements MigrationInterface {
  readonly name = 'CreateEventStore1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE streams (
        id          text PRIMARY KEY,
        tenant_id   text NOT NULL,
        version     integer NOT NULL CHECK (version >= 0),
        model       text NOT NULL DEFAULT '',
        shard_id    text NOT NULL DEFAULT '',
        closed      boolean NOT NULL DEFAULT false,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX streams_tenant_idx ON streams (tenant_id, id)`);
    await queryRunner.query(`
      CREATE TABLE events (
        global_position  bigserial PRIMARY KEY,
        event_id         uuid NOT NULL UNIQUE,
        stream_id        text NOT NULL REFERENCES streams (id),
        version          integer NOT NULL CHECK (version >= 1),
        type             text NOT NULL,
        schema_version   integer NOT NULL,
        payload          bytea NOT NULL,
        metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
        idempotency_key  text,
        occurred_at      timestamptz NOT NULL,
        recorded_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
      )`);
    await queryRunner.query(
      `CREATE INDEX events_idempotency_idx ON events (stream_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE snapshots (
        stream_id       text PRIMARY KEY REFERENCES streams (id),
        version         integer NOT NULL,
        schema_version  integer NOT NULL,
        state           jsonb NOT NULL,
        taken_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(outboxMigrationSql());
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS snapshots, events, streams`);
  }
}
