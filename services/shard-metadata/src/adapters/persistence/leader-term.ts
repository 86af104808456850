import { DomainError } from '@spillway/errors';
import type { DataSource } from 'typeorm';

/**
 * Fencing for the registry's writes (docs/adr/0008). Leadership is an advisory lock on a
 * connection of its own, but the writes go through a pool: an old leader whose lock connection
 * broke can still have a write in flight, or start one before it notices, after a standby took the
 * lock and loaded the registry. The new leader's memory would then miss that write.
 *
 * A term closes that gap. Taking over:
 * 1. bump the term row (the lock makes this instance the only one doing so);
 * 2. terminate every other registry pool's backends and wait until they are gone: a write the old
 *    leader still had in flight is now either committed or rolled back;
 * 3. load the registry (the caller does, afterwards), which therefore sees every write that
 *    committed.
 * Every write checks the term in its own statement (or first, in a transaction), so any write
 * the old leader starts after step 1 sees the new term and changes nothing; one that started
 * before is settled by step 2.
 */
export interface LeaderTerm {
  readonly term: number;
}

/** Pools of every registry instance carry this prefix in their application_name, then an id. */
export const POOL_APPLICATION_NAME_PREFIX = 'spillway-shard-metadata:';

/** SQL that is true while `$n` is still the current term: append it to a write's WHERE clause. */
export function termHolds(parameter: number): string {
  return `(SELECT term FROM registry_term WHERE id = 1) = $${parameter}`;
}

/** Steps 1 and 2 above; `ownApplicationName` is this instance's pool, which is spared. */
export async function claimTerm(
  dataSource: DataSource,
  ownApplicationName: string,
  terminateTimeoutMs: number,
): Promise<LeaderTerm> {
  const rows = await dataSource.query<{ term: string | number }[]>(
    `INSERT INTO registry_term (id, term) VALUES (1, 1)
     ON CONFLICT (id) DO UPDATE SET term = registry_term.term + 1
     RETURNING term`,
  );
  const term = Number(rows[0]?.term);
  if (!Number.isSafeInteger(term) || term < 1) throw new Error('could not claim a registry term');
  const others = await dataSource.query<{ pid: number; application_name: string; gone: boolean }[]>(
    `SELECT pid, application_name, pg_terminate_backend(pid, $3) AS gone
     FROM pg_stat_activity
     WHERE datname = current_database()
       AND starts_with(application_name, $1)
       AND application_name <> $2
       AND pid <> pg_backend_pid()`,
    [POOL_APPLICATION_NAME_PREFIX, ownApplicationName, terminateTimeoutMs],
  );
  const lingering = others.filter((row) => !row.gone);
  if (lingering.length > 0) {
    throw new Error(
      `term ${term}: the previous leader's connections did not end within ${terminateTimeoutMs} ms ` +
        `(backends ${lingering.map((row) => `${row.pid} (${row.application_name})`).join(', ')})`,
    );
  }
  return { term };
}

/** The current term as stored, for telling a fenced write from a lost compare-and-set. */
export async function storedTerm(database: Pick<DataSource, 'query'>): Promise<number> {
  const rows = await database.query<{ term: string | number }[]>(
    'SELECT term FROM registry_term WHERE id = 1',
  );
  return Number(rows[0]?.term ?? 0);
}

/** Refuses a write because another instance leads now: retryable, the leader is elsewhere. */
export function fencedWrite(operation: string, own: LeaderTerm, current: number): DomainError {
  return new DomainError(
    'DEPENDENCY.UNAVAILABLE',
    `another shard-metadata instance leads now (term ${current}); this one (term ${own.term}) ` +
      `no longer writes (${operation}); retry against the leader`,
    { retryAfterSeconds: 1 },
  );
}

/** Throws fencedWrite unless `own` is still the stored term. */
export async function assertTermHolds(
  database: Pick<DataSource, 'query'>,
  own: LeaderTerm,
  operation: string,
): Promise<void> {
  const current = await storedTerm(database);
  if (current !== own.term) throw fencedWrite(operation, own, current);
}
