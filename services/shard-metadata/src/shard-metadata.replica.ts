import 'reflect-metadata';
import { type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LeaderLock } from './adapters/leadership/leader-lock.js';
import { ensureDatabase } from './adapters/persistence/ensure-database.js';
import type { ShardMetadataConfig } from './config.js';
import { ShardMetadataModule } from './shard-metadata.module.js';
import { ShardMetadataRuntime } from './shard-metadata.runtime.js';

const LEADER_LOCK_NAME = 'spillway.shard-metadata.leader';
/**
 * Standby polls a leader that just stepped down sits out before it asks again: its own connection
 * is the likelier culprit, and a standby should take over rather than the same instance reloading.
 */
const STEPPED_DOWN_PAUSE_POLLS = 5;

export interface ReplicaLog {
  /** Another instance leads; this one waits for the lock. */
  standingBy(): void;
  leading(host: string, port: number): void;
  /** The lock connection broke: this instance stopped serving and stands by again. */
  steppedDown(reason: Error): void;
  /** A term after the first could not start; the lock was given back and is asked for again. */
  termFailed(error: unknown): void;
  lockUnreachable(error: unknown): void;
}

/**
 * One shard-metadata process: active–standby over a PostgreSQL advisory lock (docs/adr/0008).
 * Each term of leadership is a fresh application built once the lock is held, so a takeover loads
 * the registry from PostgreSQL exactly as a fresh start does (shards known from before get the
 * restart grace). When the lock connection breaks the term ends at once: failure detection
 * stops, the gRPC server is shut down without grace, and the replica stands by again. A standby
 * does not listen, so a client channel over every instance's address connects to the leader only.
 */
export class ShardMetadataReplica {
  /** Resolves once this instance leads for the first time; rejects if that term cannot start. */
  readonly firstTerm: Promise<void>;
  private readonly closing = new AbortController();
  private readonly running: Promise<void>;
  private inTerm = false;
  private servingPort: number | undefined;
  private served = false;
  private firstTermStarted!: () => void;
  private firstTermFailed!: (error: unknown) => void;

  constructor(
    private readonly config: ShardMetadataConfig,
    private readonly logLevels: LogLevel[],
    private readonly log: ReplicaLog,
  ) {
    // Port 0 picks a free port once; later terms serve on the same one, where clients look.
    this.servingPort = config.GRPC_PORT === 0 ? undefined : config.GRPC_PORT;
    this.firstTerm = new Promise((resolve, reject) => {
      this.firstTermStarted = resolve;
      this.firstTermFailed = reject;
    });
    this.firstTerm.catch(() => undefined);
    this.running = this.run().catch((error: unknown) => this.firstTermFailed(error));
  }

  get host(): string {
    return this.config.GRPC_HOST;
  }

  get port(): number {
    if (this.servingPort === undefined) throw new Error('shard-metadata has not served yet');
    return this.servingPort;
  }

  get leading(): boolean {
    return this.inTerm;
  }

  /** Graceful: in-flight calls finish, then the lock is given back so a standby takes over at once. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const { config } = this;
    if (config.DATABASE_CREATE_IF_MISSING)
      await ensureDatabase(config.DATABASE_URL, config.DATABASE_CONNECT_TIMEOUT_MS);
    let steppedDown = false;
    while (!this.closing.signal.aborted) {
      const lock = await LeaderLock.acquire(
        {
          databaseUrl: config.DATABASE_URL,
          lockName: LEADER_LOCK_NAME,
          retryMs: config.LEADER_RETRY_MS,
          connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
        },
        this.closing.signal,
        {
          standingBy: () => this.log.standingBy(),
          connectFailed: (error) => this.log.lockUnreachable(error),
        },
        steppedDown ? config.LEADER_RETRY_MS * STEPPED_DOWN_PAUSE_POLLS : 0,
      );
      if (lock === undefined) return;
      try {
        steppedDown = await this.lead(lock);
      } catch (error) {
        await lock.release();
        // A first term that cannot start is a start-up failure (bad schema, wrong database): say so.
        if (!this.served) throw error;
        this.log.termFailed(error);
      }
    }
  }

  /**
   * One term: serve until the lock is lost (step down) or the replica closes (shut down).
   * Returns whether it stepped down.
   */
  private async lead(lock: LeaderLock): Promise<boolean> {
    const port = this.servingPort ?? this.config.GRPC_PORT;
    const app = await NestFactory.createApplicationContext(
      ShardMetadataModule.forConfig({ ...this.config, GRPC_PORT: port }),
      // A term that cannot start is retried by the replica, not an abort of the process.
      { logger: this.logLevels, abortOnError: false },
    );
    const runtime = app.get(ShardMetadataRuntime);
    try {
      this.inTerm = true;
      this.servingPort = runtime.port;
      this.served = true;
      this.log.leading(this.host, runtime.port);
      this.firstTermStarted();
      const steppedDown = await this.serveUntilTermEnds(lock, runtime);
      await app.close();
      await lock.release();
      return steppedDown;
    } finally {
      this.inTerm = false;
    }
  }

  private async serveUntilTermEnds(
    lock: LeaderLock,
    runtime: ShardMetadataRuntime,
  ): Promise<boolean> {
    const closing = new Promise<void>((resolve) => {
      if (this.closing.signal.aborted) resolve();
      else this.closing.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const ended = await Promise.race([lock.lost, closing.then(() => undefined)]);
    if (ended !== undefined) {
      // Another instance may hold the lock by now: nothing more may be served or decided here.
      this.inTerm = false;
      this.log.steppedDown(ended);
      await runtime.stop(0);
      return true;
    }
    return false;
  }
}
