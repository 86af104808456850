import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

const WRITTEN: Promise<void> = Promise.resolve();

/**
 * Server-sent events on a raw response, with back-pressure and disconnect detection.
 *
 * Events queued in the same event-loop turn leave in one socket write (flushed by setImmediate,
 * before the loop next waits for I/O): a burst of tokens that arrived together costs one write and
 * one chunk frame instead of one per token, and adds no waiting. The last events and the end of
 * the response go out together.
 */
export class SseWriter {
  private closedByPeer = false;
  private pending = '';
  private flushScheduled = false;
  /** Set while the socket is over its high-water mark; producers wait on it. */
  private backPressure: Promise<void> | undefined;

  constructor(private readonly response: ServerResponse) {
    response.once('close', () => {
      if (!response.writableEnded) this.closedByPeer = true;
    });
  }

  /** True once the client went away; stop producing. */
  get gone(): boolean {
    return this.closedByPeer || this.response.destroyed;
  }

  open(headers: Readonly<Record<string, string>>): void {
    this.response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Proxies (nginx) must pass each event through at once.
      'x-accel-buffering': 'no',
    });
  }

  /** Queues one event (an object is JSON-encoded); resolves at once unless the client is slow. */
  data(payload: unknown): Promise<void> {
    return this.raw(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /** Queues one event whose data is already encoded. */
  raw(encoded: string): Promise<void> {
    if (this.gone) return WRITTEN;
    this.pending += `data: ${encoded}\n\n`;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    return this.backPressure ?? WRITTEN;
  }

  /** Writes whatever is queued and ends the response. */
  end(): void {
    if (this.response.writableEnded) return;
    const rest = this.pending;
    this.pending = '';
    if (rest !== '' && !this.gone) this.response.end(rest);
    else this.response.end();
  }

  onClose(listener: () => void): void {
    this.response.once('close', listener);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const text = this.pending;
    this.pending = '';
    if (text === '' || this.gone || this.response.writableEnded) return;
    if (!this.response.write(text) && !this.backPressure) {
      this.backPressure = Promise.race([
        once(this.response, 'drain'),
        once(this.response, 'close'),
      ]).then(
        () => {
          this.backPressure = undefined;
        },
        () => {
          this.backPressure = undefined;
        },
      );
    }
  };
}
