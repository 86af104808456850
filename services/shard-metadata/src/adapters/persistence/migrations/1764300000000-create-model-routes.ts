import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The shared model routes: one row, replaced whole with compare-and-set on its generation. */
export class CreateModelRoutes1764300000000 implements MigrationInterface {
  name = 'CreateModelRoutes1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE model_routes (
        id            smallint PRIMARY KEY CHECK (id = 1),
        route_table   jsonb NOT NULL,
        generation    bigint NOT NULL CHECK (generation >= 1),
        updated_at_ms bigint NOT NULL,
        reason        text NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS model_routes');
  }
}
