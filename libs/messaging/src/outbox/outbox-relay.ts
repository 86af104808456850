import { metrics, type Counter, type Histogram } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../failures.js';
import { jsonLogger, type MessagingLogger } from '../logger.js';
import type { EncodedEventPublisher } from '../ports.js';
import { outboxNames, type OutboxLocation, type OutboxNames } from './outbox-schema.js';
import { markPublished, RelaySession, toEncodedEvent, type OutboxRow } from './relay-session.js';

export interface OutboxRelayOptions extends OutboxLocation {
  readonly pool: Pool;
  readonly publisher: EncodedEventPublisher;
  /** Rows read and published per Kafka send. Default 100. */
  readonly batchSize?: number;
  /** Longest the relay sleeps, once the outbox is empty, when no NOTIFY arrives. Default 50 ms. */
  readonly pollIntervalMs?: number;
  /**
   * How soon the relay reads again when it finds the outbox empty within `busyWindowMs` of last
   * finding rows. Default 5 ms. Writers' hints come at most every few milliseconds and queue
   * behind their appends, so while traffic flows the relay does not count on them.
   */
  readonly busyPollIntervalMs?: number;
  /** See busyPollIntervalMs. Default 250 ms. */
  readonly busyWindowMs?: number;
  /** Bound on getting a PostgreSQL connection. Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly logger?: MessagingLogger;
}

/** A batch on its way to Kafka, or to its published mark. */
interface InFlight {
  readonly rows: readonly OutboxRow[];
  /** Settles with the failure, or undefined once done; never rejects. */
  readonly done: Promise<Error | undefined>;
}

/** A batch being marked published. */
interface Mark extends InFlight {
  /** `marked` once the mark has committed (its rows are published, no longer in flight). */
  state: 'marking' | 'marked' | 'failed';
}

/** A batch on its way to Kafka. */
interface Send extends InFlight {
  /** When Kafka acknowledged it; await only once `done` settled without a failure. */
  readonly acknowledgedAt: Promise<Date>;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Moves committed outbox rows to Kafka, in id order, at least once: a batch is sent, and marked
 * published only once Kafka has acknowledged it. A crash or a failed send before the mark leaves
 * the rows unpublished, so they are sent again with the same ce_id and consumers drop the copy:
 * exactly-once as consumers see it.
 *
 * One relay per outbox publishes (a session advisory lock on the relay's connection); the others
 * stand by and take over when its connection goes. Two relays publishing at once could send a
 * later row of a key before an earlier one.
 *
 * Pipelined, with at most one send in flight (so each key's rows reach Kafka in order): an
 * acknowledged batch is marked while the next one is sent, and with a backlog the next batch is
 * read while one is on its way (skipping the rows in flight). If a send fails, the batch read
 * behind it is dropped too and both are read again.
 */
export class OutboxRelay {
  private readonly names: OutboxNames;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly busyPollIntervalMs: number;
  private readonly busyWindowMs: number;
  private readonly connectTimeoutMs: number;
  private readonly logger: MessagingLogger;
  private readonly published: Counter;
  private readonly lag: Histogram;
  private readonly failures: Counter;

  private loop: Promise<void> | undefined;
  private stopping = false;
  private notified = false;
  private wake: (() => void) | undefined;
  private session: RelaySession | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.names = outboxNames(options);
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.busyPollIntervalMs = Math.min(options.busyPollIntervalMs ?? 5, this.pollIntervalMs);
    this.busyWindowMs = options.busyWindowMs ?? 250;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.logger = options.logger ?? jsonLogger();
    const meter = metrics.getMeter('@spillway/messaging');
    this.published = meter.createCounter('spillway.outbox.published', {
      description: 'Outbox rows published to Kafka and marked published',
    });
    this.lag = meter.createHistogram('spillway.outbox.lag', {
      description: 'Time from writing an outbox row to reading it for publication',
      unit: 'ms',
    });
    this.failures = meter.createCounter('spillway.outbox.relay.failures', {
      description: 'Relay cycles that failed and were retried',
    });
  }

  /** Connects (bounded; an unreachable database is a named error), then relays until stop(). */
  async start(): Promise<void> {
    if (this.loop) throw new Error(`outbox relay for ${this.names.table} is already running`);
    this.stopping = false;
    await this.openSession();
    this.loop = this.run();
  }

  /** Lets the batch in flight be acknowledged and marked, then releases the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await this.session?.end();
    this.session = undefined;
  }

  /** Where the next read starts: every row at or below this id is published (see ReadFloor). */
  get readFloor(): bigint {
    return this.session?.floorId ?? 0n;
  }

  /** One read → send → mark cycle, without pipelining; returns the number of rows published. */
  async relayBatch(): Promise<number> {
    const session = await this.leadingSession();
    if (!session) return 0;
    const rows = await session.claim(this.batchSize, []);
    if (rows.length === 0) return 0;
    await this.options.publisher.publishEncoded(rows.map(toEncodedEvent));
    await this.marked(rows, new Date());
    return rows.length;
  }

  private async run(): Promise<void> {
    let consecutiveFailures = 0;
    let sending: Send | undefined;
    let marking: Mark | undefined;
    let backlog = false;
    let rowsFoundAt = Number.NEGATIVE_INFINITY;
    while (!this.stopping) {
      let progressed = false;
      try {
        // A mark that failed with nothing sent behind it would otherwise surface only at the
        // next send: fail the cycle now, so that its rows are read and sent again (consumers drop
        // the copies) and marked, rather than wait, unmarked, for traffic.
        if (!sending && marking?.state === 'failed') await settled(marking);
        const session = await this.leadingSession();
        if (session) {
          // With a backlog, the next batch is read while this one is on its way. Otherwise it is
          // read once this one is acknowledged, so that it takes every row committed meanwhile:
          // read early, those rows would wait for one more send.
          let next: OutboxRow[] =
            sending && backlog ? await session.claim(this.batchSize, idsOf(sending, marking)) : [];
          if (sending) {
            const sent = sending;
            sending = undefined;
            await settled(sent);
            await settled(marking);
            // Marked while the next batch is sent: the mark's commit is off the sending path.
            marking = this.mark(sent.rows, await sent.acknowledgedAt);
            progressed = true;
          }
          if (next.length < this.batchSize) {
            const skip = [...idsOf(marking), ...next.map((row) => row.id)];
            next = [...next, ...(await session.claim(this.batchSize - next.length, skip))];
          }
          backlog = next.length === this.batchSize;
          if (next.length > 0) rowsFoundAt = performance.now();
          if (next.length > 0 && !this.stopping) {
            sending = this.send(next);
            progressed = true;
          }
        }
        consecutiveFailures = 0;
      } catch (error) {
        // Nothing is left behind: a send still in flight (the read behind it failed) and a mark
        // are waited for, so that the next send cannot race them, and whatever is unmarked is
        // read and sent again. The batch read behind a failed send is dropped: it must not
        // overtake the failed one.
        await sending?.done;
        await marking?.done;
        sending = marking = undefined;
        backlog = false;
        consecutiveFailures++;
        this.failures.add(1);
        this.logger.warn('outbox relay cycle failed; retrying', {
          outbox: this.names.table,
          consecutiveFailures,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      if (this.stopping) break;
      // Rows found means more are probably being committed: read again at once, and sleep (until
      // the interval passes or a writer's NOTIFY arrives) only once the outbox is empty. Writers
      // can then hint sparingly (OutboxWakeup). Within busyWindowMs of the last rows found, the
      // sleep is only busyPollIntervalMs: commits often pause for a few milliseconds while traffic
      // flows, and a hint (sent after its append commits, through the writer's busy pool) was seen
      // to arrive tens of milliseconds late, or to time out the 50 ms poll, with rows waiting.
      if (progressed && consecutiveFailures === 0) continue;
      await this.idle(
        consecutiveFailures > 0
          ? Math.min(this.pollIntervalMs * 2 ** consecutiveFailures, MAX_BACKOFF_MS)
          : performance.now() - rowsFoundAt < this.busyWindowMs
            ? this.busyPollIntervalMs
            : this.pollIntervalMs,
      );
    }
    await this.finish(sending, marking);
  }

  private send(rows: readonly OutboxRow[]): Send {
    const acknowledgedAt = this.options.publisher
      .publishEncoded(rows.map(toEncodedEvent))
      .then(() => new Date());
    return { rows, acknowledgedAt, done: failureOf(acknowledgedAt) };
  }

  private mark(rows: readonly OutboxRow[], acknowledgedAt: Date): Mark {
    const mark: Mark = {
      rows,
      done: failureOf(this.marked(rows, acknowledgedAt)),
      state: 'marking',
    };
    void mark.done.then((failure) => {
      mark.state = failure === undefined ? 'marked' : 'failed';
    });
    return mark;
  }

  /** Stopping: what Kafka acknowledged is marked, so that it is not sent again. */
  private async finish(sending: Send | undefined, marking: Mark | undefined): Promise<void> {
    const sendFailure = await sending?.done;
    await marking?.done;
    if (sending && sendFailure === undefined)
      await this.mark(sending.rows, await sending.acknowledgedAt).done;
  }

  private async marked(rows: readonly OutboxRow[], acknowledgedAt: Date): Promise<void> {
    await markPublished(this.options.pool, this.names, rows, acknowledgedAt);
    for (const row of rows) {
      this.published.add(1, { 'messaging.destination.name': row.topic });
      this.lag.record(Number(row.lag_ms), { 'messaging.destination.name': row.topic });
    }
  }

  /** The session, reconnected if it broke, if it leads the outbox; undefined while standing by. */
  private async leadingSession(): Promise<RelaySession | undefined> {
    if (!this.session?.usable) await this.openSession();
    const session = this.session;
    return session && (await session.lead()) ? session : undefined;
  }

  private async openSession(): Promise<void> {
    this.session?.close();
    this.session = undefined;
    this.session = await RelaySession.open(
      this.options.pool,
      this.names,
      this.connectTimeoutMs,
      () => {
        this.notified = true;
        this.wake?.();
      },
      this.logger,
    );
  }

  /** Sleeps until the interval passes, a NOTIFY arrives, or stop() is called. */
  private idle(ms: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        this.notified = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/**
 * The ids a read must skip: those of a batch being sent or being marked. A marked batch's rows are
 * published (the read passes them anyway), and leaving them out lets the read floor rise past them.
 */
function idsOf(...batches: readonly (InFlight | Mark | undefined)[]): string[] {
  return batches.flatMap((batch) =>
    batch && !('state' in batch && batch.state === 'marked') ? batch.rows.map((row) => row.id) : [],
  );
}

/** Throws the batch's failure, if it had one. */
async function settled(batch: InFlight | undefined): Promise<void> {
  const failure = await batch?.done;
  if (failure !== undefined) throw failure;
}

function failureOf(work: Promise<unknown>): Promise<Error | undefined> {
  return work.then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
}
