import { performance } from 'node:perf_hooks';
import pg, { type ClientBase, type Pool, type PoolClient } from 'pg';
import { DEFAULT_CONNECT_TIMEOUT_MS, databaseUnreachable, withDeadline } from './failures.js';
import { jsonLogger, type MessagingLogger } from './logger.js';

/** A pool, a pooled client or a client: anything the outbox and dedup stores can query through. */
export type Queryable = Pick<ClientBase, 'query'>;

export interface PostgresPoolOptions {
  /** Bound on opening one connection (pg `connectionTimeoutMillis`). Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly max?: number;
  readonly logger?: MessagingLogger;
}

/** A pool whose connection attempts are bounded and whose idle-client errors are logged, not fatal. */
export function createPostgresPool(url: string, options: PostgresPoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    max: options.max ?? 10,
  });
  const logger = options.logger ?? jsonLogger();
  // Without a listener, an idle client's error (server restart) is an uncaught exception.
  pool.on('error', (error) =>
    logger.warn('idle PostgreSQL client failed', { error: error.message }),
  );
  // pg-pool listens for errors only on idle clients. A checked-out client whose server goes away
  // (a restart) emits 'error' as well as failing its query, and an unheard 'error' event kills
  // the process; the failed query (or the next one, "not queryable") already reports it.
  pool.on('connect', (client) => client.on('error', ignoreCheckedOutClientError));
  return pool;
}

function ignoreCheckedOutClientError(): void {}

/** `host:port` of the pool's server, for error messages. */
export function postgresTarget(pool: Pool): string {
  const { host, port, connectionString } = pool.options;
  if (connectionString) {
    try {
      const url = new URL(connectionString);
      return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
    } catch {
      // Not a URL (a libpq keyword string); fall through to the discrete options.
    }
  }
  return `${host ?? 'localhost'}:${port ?? 5432}`;
}

/**
 * Checks a client out of the pool within `timeoutMs`; a server that cannot be reached becomes a
 * DEPENDENCY.UNAVAILABLE error naming host:port. Errors the server itself returns (bad database,
 * bad role) are passed through unchanged: the server was reached.
 */
export async function connectPostgres(
  pool: Pool,
  timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): Promise<PoolClient> {
  const started = performance.now();
  const connecting = pool.connect();
  try {
    return await withDeadline(connecting, timeoutMs);
  } catch (error) {
    if (error instanceof pg.DatabaseError) throw error;
    // A connection that completes after the deadline goes back to the pool instead of leaking.
    connecting.then(
      (client) => client.release(),
      () => undefined,
    );
    throw databaseUnreachable(postgresTarget(pool), performance.now() - started, error);
  }
}

/** Schema and table names are interpolated into DDL, so only plain lower-case names are accepted. */
export function assertSqlName(name: string, what: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(
      `${what} name ${JSON.stringify(name)} must match [a-z_][a-z0-9_]* (max 63 characters)`,
    );
  }
}
