import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

export interface LeaderLockOptions {
  readonly databaseUrl: string;
  /** Advisory locks are per database: registries on different databases never compete. */
  readonly lockName: string;
  /** How often a standby asks for the lock, and how often the leader checks its connection. */
  readonly retryMs: number;
  readonly connectTimeoutMs: number;
}

export interface LeaderLockLog {
  /** Another instance holds the lock; said once per wait. */
  standingBy(): void;
  /** The standby could not reach PostgreSQL; it keeps trying. */
  connectFailed(error: unknown): void;
}

/**
 * The registry's leadership: a PostgreSQL session advisory lock held on a connection of its own.
 * It lives exactly as long as that connection: when the process dies or the connection breaks,
 * PostgreSQL releases the lock and a standby's next try takes it. Try-and-retry instead of a
 * blocking `pg_advisory_lock`: a standby that dies while blocked would leave a backend waiting in
 * the lock queue, which takes the lock when it frees and only then notices its client is gone.
 */
export class LeaderLock {
  /** Settles (never rejects) with why leadership ended; `release()` settles it too. */
  readonly lost: Promise<Error>;
  private loseWith!: (reason: Error) => void;
  private readonly check: NodeJS.Timeout;
  private released = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly options: LeaderLockOptions,
  ) {
    this.lost = new Promise((resolve) => (this.loseWith = resolve));
    client.on('error', (error) => this.lose(error));
    client.on('end', () => this.lose(new Error('the leader lock connection ended')));
    // A connection that silently stops answering (a network partition) sends no error; asking it
    // something now and then turns that silence into a step-down.
    this.check = setInterval(() => {
      client.query('SELECT 1').catch((error: unknown) => this.lose(asError(error)));
    }, options.retryMs);
    this.check.unref();
  }

  /**
   * Resolves once this process holds the lock, or with undefined once `signal` aborts. Connection
   * failures are logged and retried: a standby waits out PostgreSQL being away. `firstTryAfterMs`
   * lets the others go first.
   */
  static async acquire(
    options: LeaderLockOptions,
    signal: AbortSignal,
    log: LeaderLockLog,
    firstTryAfterMs = 0,
  ): Promise<LeaderLock | undefined> {
    await sleep(firstTryAfterMs, signal);
    let waiting = false;
    while (!signal.aborted) {
      const client = new pg.Client({
        connectionString: options.databaseUrl,
        connectionTimeoutMillis: options.connectTimeoutMs,
        query_timeout: Math.max(options.connectTimeoutMs, options.retryMs),
        keepAlive: true,
        application_name: 'spillway-shard-metadata-leader',
      });
      // Until the lock is held, a broken connection only means "try again".
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!signal.aborted) {
          const { rows } = await client.query<{ leading: boolean }>(
            'SELECT pg_try_advisory_lock(hashtext($1)) AS leading',
            [options.lockName],
          );
          if (rows[0]?.leading === true) {
            client.removeAllListeners('error');
            return new LeaderLock(client, options);
          }
          if (!waiting) log.standingBy();
          waiting = true;
          await sleep(options.retryMs, signal);
        }
      } catch (error) {
        if (!signal.aborted) log.connectFailed(error);
      }
      await client.end().catch(() => undefined);
      await sleep(options.retryMs, signal);
    }
    return undefined;
  }

  /** Gives the lock back at once (a graceful shutdown), so a standby need not wait for a timeout. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.check);
    this.loseWith(new Error('released'));
    await this.client
      .query('SELECT pg_advisory_unlock(hashtext($1))', [this.options.lockName])
      .catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }

  private lose(reason: Error): void {
    if (this.released) return;
    clearInterval(this.check);
    this.loseWith(reason);
    // Whatever happened, this connection will not be trusted with the lock again.
    this.released = true;
    this.client.end().catch(() => undefined);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
