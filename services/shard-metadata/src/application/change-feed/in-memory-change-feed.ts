import {
  type ChangeFeed,
  type ChangeSubscription,
  type ChangeSubscriptionOptions,
  FeedClosed,
  WatcherFellBehind,
} from '../ports/change-feed.port.js';

/** Fan-out inside one process; each subscriber has its own bounded queue. */
export class InMemoryChangeFeed<T> implements ChangeFeed<T> {
  private readonly subscribers = new Set<Subscriber<T>>();
  private closed = false;

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  publish(change: T): void {
    for (const subscriber of this.subscribers) subscriber.push(change);
  }

  subscribe(options: ChangeSubscriptionOptions): ChangeSubscription<T> {
    const subscriber = new Subscriber<T>(options, () => this.subscribers.delete(subscriber));
    if (this.closed) subscriber.fail(new FeedClosed());
    else if (!subscriber.closed) this.subscribers.add(subscriber);
    return subscriber;
  }

  close(): void {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) subscriber.fail(new FeedClosed());
  }
}

class Subscriber<T> implements ChangeSubscription<T> {
  private queue: T[] = [];
  private head = 0;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  closed = false;
  private readonly onAbort = (): void => this.close();

  constructor(
    private readonly options: ChangeSubscriptionOptions,
    private readonly detach: () => void,
  ) {
    if (options.signal.aborted) this.closed = true;
    else options.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  push(change: T): void {
    if (this.closed || this.failure) return;
    if (this.queue.length - this.head >= this.options.maxBuffered) {
      // Cut off rather than buffer without bound: the watcher re-watches and gets a snapshot.
      this.fail(new WatcherFellBehind(this.options.maxBuffered));
      return;
    }
    this.queue.push(change);
    this.wake();
  }

  /** Ends the subscription: the iterator throws `error` instead of yielding what is queued. */
  fail(error: Error): void {
    if (this.closed || this.failure) return;
    this.failure = error;
    this.queue = [];
    this.head = 0;
    this.detach();
    this.wake();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.signal.removeEventListener('abort', this.onAbort);
    this.detach();
    this.queue = [];
    this.head = 0;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        if (this.head < this.queue.length) {
          const change = this.queue[this.head] as T;
          this.head++;
          // Compact now and then so a long-lived watcher does not keep every change it has seen.
          if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
            this.queue = this.queue.slice(this.head);
            this.head = 0;
          }
          yield change;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          this.waiting = resolve;
        });
      }
    } finally {
      this.close();
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
