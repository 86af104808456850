import { performance } from 'node:perf_hooks';
import type { Queryable } from '../postgres.js';
import { outboxNames, type OutboxLocation } from './outbox-schema.js';

export interface OutboxWakeupOptions extends OutboxLocation {
  /**
   * At most one NOTIFY per this many milliseconds from this process. Default 10. A relay that is
   * busy finds the rows committed in between by polling again at once; one that has just gone idle
   * is woken by the next hint, so this bounds the extra delay a row can see under steady traffic.
   */
  readonly minIntervalMs?: number;
  /** For tests. */
  readonly now?: () => number;
}

/**
 * The relay's wake-up call for writers that commit often: after a commit, `afterCommit` sends a
 * NOTIFY only if none was sent in the last `minIntervalMs`. Sent outside the writer's transaction,
 * a NOTIFY commits nothing else, so it never holds the notify-queue lock across a WAL flush, and a
 * burst of commits costs one notification instead of one serialised commit each.
 *
 * The relay's poll interval remains the backstop: a hint that fails to send only costs latency.
 */
export class OutboxWakeup {
  private readonly channel: string;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private inFlight = false;

  constructor(options: OutboxWakeupOptions = {}) {
    this.channel = outboxNames(options).channel;
    this.minIntervalMs = options.minIntervalMs ?? 10;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether a hint is due now; if so, the caller is expected to send it (see afterCommit). */
  due(): boolean {
    const now = this.now();
    if (this.inFlight || now - this.lastSentAt < this.minIntervalMs) return false;
    this.lastSentAt = now;
    return true;
  }

  /**
   * Call after the transaction that wrote outbox rows committed; never throws. The caller need not
   * wait for it (one hint at a time is in flight): the NOTIFY lock is cluster-wide, and a writer
   * should not queue behind other databases' notifying commits before it answers its client.
   */
  async afterCommit(db: Queryable): Promise<void> {
    if (!this.due()) return;
    this.inFlight = true;
    try {
      await db.query('SELECT pg_notify($1, $2)', [this.channel, '']);
    } catch {
      // Let the next commit try again rather than wait out the interval.
      this.lastSentAt = Number.NEGATIVE_INFINITY;
    } finally {
      this.inFlight = false;
    }
  }
}
