import { setTimeout as delay } from 'node:timers/promises';
import type { LogPort } from '../../application/index.js';

export interface WatchLoopOptions {
  readonly name: string;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly log: LogPort;
  readonly random?: () => number;
}

/**
 * Consumes one watch stream.
 * @param healthy call once the stream delivered its snapshot: the backoff starts over.
 */
export type WatchConsumer = (signal: AbortSignal, healthy: () => void) => Promise<void>;

/**
 * Keeps a watch open for as long as the router runs: when the stream ends or breaks (the registry
 * restarted, or cut off a watcher that fell behind) it is opened again after a capped, jittered
 * exponential backoff, and the new stream's snapshot rebuilds the router's copy.
 */
export class WatchLoop {
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private connected = false;

  constructor(
    private readonly consume: WatchConsumer,
    private readonly options: WatchLoopOptions,
  ) {}

  /** Whether the current stream has delivered its snapshot. */
  get isConnected(): boolean {
    return this.connected;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { name, log } = this.options;
    const random = this.options.random ?? Math.random;
    const signal = this.controller.signal;
    let backoffMs = this.options.initialBackoffMs;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.consume(signal, () => {
          if (failures > 0) log.info(`${name} watch restored`, { failures });
          this.connected = true;
          failures = 0;
          backoffMs = this.options.initialBackoffMs;
        });
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          log.warn(`${name} watch broke; watching again`, {
            failures,
            retryInMs: Math.round(backoffMs),
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      this.connected = false;
      if (signal.aborted) break;
      await sleep(backoffMs * (0.5 + random() / 2), signal);
      backoffMs = Math.min(this.options.maxBackoffMs, backoffMs * 2);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
