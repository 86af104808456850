export interface GroupCommitOptions {
  /** Statements in flight at once; writes that arrive meanwhile wait and go together. */
  readonly maxInFlight: number;
  /** Most writes coalesced into one statement. */
  readonly maxWrites: number;
  /** Told the size of every group sent (for metrics and tests). */
  readonly onGroup?: (writes: number) => void;
}

/** What one write of a group came to: its own value, or its own error. */
export type Settled<R> =
  { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

interface Waiting<W, R> {
  readonly write: W;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: appends to different conversations that arrive while earlier statements are in
 * flight are sent together as one statement (one round trip, one parse, one WAL flush) instead of
 * one each. Each caller still gets its own answer: `commit` settles every write of a group on its
 * own, so one conversation's conflict never fails another's append.
 *
 * A conversation is never in two statements at once, nor twice in one: its next write waits for
 * the one in flight, so a stream's appends reach the database, and the outbox, in order. An idle
 * store sends a lone write at once; grouping only happens under load, where it pays.
 */
export class GroupCommit<W extends { readonly conversationId: string }, R> {
  private readonly waiting: Waiting<W, R>[] = [];
  private readonly streamsInFlight = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly commit: (writes: readonly W[]) => Promise<readonly Settled<R>[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(write: W): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ write, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Sends on the next turn of the event loop rather than now: requests read from the same socket
   * chunk arrive in one turn, and then share a statement.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.sendWhilePossible();
    });
  }

  private sendWhilePossible(): void {
    while (this.inFlight < this.options.maxInFlight) {
      const group = this.nextGroup();
      if (group.length === 0) return;
      void this.send(group);
    }
  }

  /** The oldest waiting writes, at most one per conversation and none whose stream is in flight. */
  private nextGroup(): Waiting<W, R>[] {
    const group: Waiting<W, R>[] = [];
    const streams = new Set<string>();
    for (let index = 0; index < this.waiting.length && group.length < this.options.maxWrites;) {
      const waiting = this.waiting[index]!;
      const stream = waiting.write.conversationId;
      if (this.streamsInFlight.has(stream) || streams.has(stream)) {
        index++;
        continue;
      }
      streams.add(stream);
      group.push(waiting);
      this.waiting.splice(index, 1);
    }
    return group;
  }

  private async send(group: readonly Waiting<W, R>[]): Promise<void> {
    this.inFlight++;
    this.options.onGroup?.(group.length);
    for (const { write } of group) this.streamsInFlight.add(write.conversationId);
    try {
      const settled = await this.commit(group.map(({ write }) => write));
      group.forEach((waiting, index) => {
        const outcome = settled[index];
        if (!outcome) waiting.reject(new Error(`group commit gave no outcome for write ${index}`));
        else if (outcome.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome.error);
      });
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
    } finally {
      this.inFlight--;
      for (const { write } of group) this.streamsInFlight.delete(write.conversationId);
      this.schedule();
    }
  }
}
