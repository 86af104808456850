/**
 * Fans changes out to watchers inside this process. Each subscriber has a bounded buffer: one that
 * falls further behind is cut off (its iterator throws WatcherFellBehind) and must watch again,
 * so a stuck client cannot grow the registry's memory.
 */
export interface ChangeFeed<T> {
  publish(change: T): void;
  /** Changes published from now on; ends when `signal` aborts. */
  subscribe(options: ChangeSubscriptionOptions): ChangeSubscription<T>;
  readonly subscriberCount: number;
  /** Ends every subscription with FeedClosed (shutdown), so watchers reconnect elsewhere. */
  close(): void;
}

export interface ChangeSubscriptionOptions {
  readonly signal: AbortSignal;
  readonly maxBuffered: number;
}

export interface ChangeSubscription<T> extends AsyncIterable<T> {
  close(): void;
}

export class WatcherFellBehind extends Error {
  constructor(readonly maxBuffered: number) {
    super(
      `the watch fell more than ${maxBuffered} changes behind; watch again for a fresh snapshot`,
    );
    this.name = 'WatcherFellBehind';
  }
}

export class FeedClosed extends Error {
  constructor() {
    super('shard-metadata is shutting down; watch again for a fresh snapshot');
    this.name = 'FeedClosed';
  }
}
