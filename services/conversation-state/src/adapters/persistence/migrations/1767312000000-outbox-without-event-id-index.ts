import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * No unique index on `outbox.event_id`. In this service the outbox is written only by the append
 * statement, from the very rows it inserts into `events`, whose `event_id` is unique
 * (`events_event_id_key`): a reused id fails the whole statement before any outbox row exists. The
 * outbox's own index only repeated that check, at the price of an insert into a btree keyed by
 * random UUIDs for every event, and another for every published mark (the mark is not a HOT
 * update, so it adds an entry to every index). Nothing reads the outbox by `event_id`.
 */
export class OutboxWithoutEventIdIndex1767312000000 implements MigrationInterface {
  readonly name = 'OutboxWithoutEventIdIndex1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_key`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE outbox ADD CONSTRAINT outbox_event_id_key UNIQUE (event_id)`,
    );
  }
}
