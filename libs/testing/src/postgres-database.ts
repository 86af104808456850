import { connectPostgres, createPostgresPool } from '@spillway/messaging';
import { escapeIdentifier, type Pool } from 'pg';
import { testInfrastructure, uniqueSuffix } from './infrastructure.js';
import { waitFor } from './wait-for.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly pool: Pool;
  /** Ends the pool and drops the database, terminating any connection still open. */
  cleanup(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** A URL of a database on the server to create the test database on. */
  readonly serverUrl?: string;
  readonly connectTimeoutMs?: number;
}

/** A fresh database `spillway_test_<random>` on the real server. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? testInfrastructure.postgresUrl;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const name = `spillway_test_${uniqueSuffix()}`;
  const admin = createPostgresPool(serverUrl, { max: 1, connectTimeoutMs });
  try {
    const client = await connectPostgres(admin, connectTimeoutMs);
    try {
      await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    } finally {
      client.release();
    }
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = withDatabase(serverUrl, name);
  const pool = createPostgresPool(url, { connectTimeoutMs });
  return {
    name,
    url,
    pool,
    cleanup: async () => {
      try {
        await pool.end();
        // pg's Pool.end() resolves before its sockets have closed; dropping at once would
        // terminate them mid-goodbye and surface as idle-client errors.
        await waitFor(
          async () => {
            const open = await admin.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [
              name,
            ]);
            return open.rowCount === 0;
          },
          { description: `connections to ${name} to close`, timeoutMs: 2_000, intervalMs: 20 },
        ).catch(() => undefined); // stragglers are terminated by FORCE below
        await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export interface TestSchema {
  readonly schema: string;
  cleanup(): Promise<void>;
}

/** A fresh schema `test_<random>` in an existing database: cheaper than a database per test. */
export async function createTestSchema(pool: Pool): Promise<TestSchema> {
  const schema = `test_${uniqueSuffix()}`;
  await pool.query(`CREATE SCHEMA ${escapeIdentifier(schema)}`);
  return {
    schema,
    cleanup: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${escapeIdentifier(schema)} CASCADE`);
    },
  };
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
