import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The leader's fencing term (docs/adr/0008): one row, bumped by every instance that takes the
 * leader lock, and checked by every write of the registry.
 */
export class CreateRegistryTerm1764400000000 implements MigrationInterface {
  name = 'CreateRegistryTerm1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE registry_term (
        id   smallint PRIMARY KEY CHECK (id = 1),
        term bigint NOT NULL CHECK (term >= 1)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS registry_term');
  }
}
