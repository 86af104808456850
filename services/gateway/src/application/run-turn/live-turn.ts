import { DomainError } from '@spillway/errors';
import { type CompletedTurn, type TurnEvent, foldTurn } from '../../domain/chat.js';

export interface TurnBookkeeping {
  completed(turn: CompletedTurn): Promise<void>;
  /** `deliveredTokens`: an estimate of what the client already received. */
  failed(deliveredTokens: number, cancelled: boolean): Promise<void>;
}

/**
 * A turn the router has accepted. Iterate `events()` once, or call `abort()`; either way the
 * bookkeeping (quota settlement, admission slot, idempotency record) runs exactly once.
 */
export class LiveTurn {
  readonly turnId: string;
  private readonly seen: TurnEvent[] = [];
  private settled = false;
  private result: CompletedTurn | undefined;

  constructor(
    private readonly first: IteratorResult<TurnEvent>,
    private readonly iterator: AsyncIterator<TurnEvent>,
    private readonly abortController: AbortController,
    private readonly bookkeeping: TurnBookkeeping,
    private readonly context: {
      readonly model: string;
      readonly createdAt: number;
      readonly conversationId?: string;
    },
  ) {
    this.turnId = !first.done && first.value.type !== 'delta' ? first.value.turnId : '';
  }

  get model(): string {
    return this.context.model;
  }

  get createdAt(): number {
    return this.context.createdAt;
  }

  get conversationId(): string | undefined {
    return this.context.conversationId;
  }

  /** Deltas and the completion, in order (the started event was consumed at admission). */
  async *events(): AsyncGenerator<
    Exclude<TurnEvent, { type: 'started' }>,
    CompletedTurn,
    undefined
  > {
    let finished = false;
    try {
      let next = this.first;
      for (;;) {
        if (next.done)
          throw new DomainError('INTERNAL', 'The router ended the turn without completing it.');
        const event = next.value;
        this.seen.push(event);
        if (event.type === 'delta') yield event;
        if (event.type === 'completed') {
          const turn = foldTurn(this.seen, this.context);
          finished = true;
          this.result = turn;
          // Read the stream to its end (its OK status), which releases the call's resources.
          void this.drain();
          yield event;
          await this.settle(() => this.bookkeeping.completed(turn));
          return turn;
        }
        next = await this.iterator.next();
      }
    } catch (error) {
      finished = true;
      await this.settle(() => this.bookkeeping.failed(this.deliveredTokens(), false));
      throw error;
    } finally {
      if (!finished) {
        // The consumer stopped early (client went away): cancel the turn on the router.
        this.abortController.abort();
        await this.settle(() => this.bookkeeping.failed(this.deliveredTokens(), true));
        void this.iterator.return?.();
      } else if (this.result && !this.settled) {
        // The consumer stopped right after the completion event, before bookkeeping ran.
        const turn = this.result;
        await this.settle(() => this.bookkeeping.completed(turn));
      }
    }
  }

  /** Collects the whole reply (non-streaming clients). */
  async collect(): Promise<CompletedTurn> {
    const generator = this.events();
    for (;;) {
      const step = await generator.next();
      if (step.done) return step.value;
    }
  }

  /** Gives the turn up without reading it. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.abortController.abort();
    await this.settle(() => this.bookkeeping.failed(this.deliveredTokens(), true));
    void this.iterator.return?.();
  }

  private async drain(): Promise<void> {
    try {
      for (let step = await this.iterator.next(); !step.done; step = await this.iterator.next()) {
        // Nothing follows a completion; anything that does is ignored.
      }
    } catch {
      // The turn is complete; a late stream error changes nothing for the client.
    }
  }

  private async settle(action: () => Promise<void>): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await action();
  }

  private deliveredTokens(): number {
    const chars = this.seen.reduce(
      (sum, event) => sum + (event.type === 'delta' ? event.text.length : 0),
      0,
    );
    return Math.ceil(chars / 4);
  }
}
