import { outboxMigrationSql } from '@spillway/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateShardRegistry1763830000000 implements MigrationInterface {
  name = 'CreateShardRegistry1763830000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE shards (
        shard_id              text PRIMARY KEY,
        pool                  text NOT NULL,
        model                 text NOT NULL,
        model_version         text NOT NULL,
        zone                  text NOT NULL,
        endpoint              text NOT NULL,
        state                 text NOT NULL
                              CHECK (state IN ('starting', 'ready', 'draining', 'failed', 'removed')),
        max_in_flight_streams integer NOT NULL,
        kv_capacity_tokens    bigint NOT NULL,
        hardware_profile      text NOT NULL,
        cost_per_hour         double precision NOT NULL,
        last_heartbeat_at_ms  bigint NOT NULL,
        registered_at_ms      bigint NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE assignments (
        conversation_id text PRIMARY KEY,
        tenant_id       text NOT NULL,
        shard_id        text NOT NULL,
        version         bigint NOT NULL CHECK (version >= 1),
        updated_at_ms   bigint NOT NULL,
        reason          text NOT NULL
      )`);
    // ListAssignments pages one shard's conversations in id order.
    await queryRunner.query(
      'CREATE INDEX assignments_by_shard ON assignments (shard_id, conversation_id)',
    );
    // Lifecycle events are written here in the transaction that changes the shard (ADR 0004).
    await queryRunner.query(outboxMigrationSql());
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS assignments');
    await queryRunner.query('DROP TABLE IF EXISTS shards');
  }
}
