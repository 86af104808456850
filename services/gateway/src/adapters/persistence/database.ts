import pg from 'pg';

const MIGRATION_LOCK = 0x5350_4741; // 'SPGA': one migrator at a time across replicas

/** Statements that bring an empty database to the current schema; each is idempotent. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS gateway_tenants (
     id text PRIMARY KEY,
     name text NOT NULL UNIQUE,
     tier text NOT NULL,
     requests_per_minute integer NOT NULL CHECK (requests_per_minute > 0),
     tokens_per_minute bigint NOT NULL CHECK (tokens_per_minute > 0),
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS gateway_api_keys (
     id text PRIMARY KEY,
     tenant_id text NOT NULL REFERENCES gateway_tenants (id),
     lookup_id text NOT NULL UNIQUE,
     prefix text NOT NULL UNIQUE,
     secret_sha256 text NOT NULL,
     name text NOT NULL DEFAULT '',
     created_at timestamptz NOT NULL DEFAULT now(),
     revoked_at timestamptz
   )`,
  `CREATE INDEX IF NOT EXISTS gateway_api_keys_tenant ON gateway_api_keys (tenant_id)`,
];

export interface DatabaseOptions {
  readonly url: string;
  /** Create the database itself when it does not exist (development machines). */
  readonly autocreate: boolean;
  readonly maxConnections?: number;
}

/** A pool on a migrated database. */
export async function openDatabase(options: DatabaseOptions): Promise<pg.Pool> {
  if (options.autocreate) await ensureDatabaseExists(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return pool;
}

export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      for (const statement of MIGRATIONS) await client.query(statement);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (name === '' || name === 'postgres') return;
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await probe.connect();
    return;
  } catch (error) {
    // 3D000: invalid_catalog_name, i.e. the database does not exist yet.
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  } catch (error) {
    // 42P04: duplicate_database, another replica won the race.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
