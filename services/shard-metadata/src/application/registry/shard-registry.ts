import { decide, evolveAll, type ShardCommand } from '../../domain/shard-decider.js';
import { isLifecycleEvent } from '../../domain/shard-events.js';
import type { Shard, ShardState } from '../../domain/shard.js';
import { nextRevision } from '../../domain/revision.js';
import type {
  ChangeFeed,
  ChangeSubscription,
  ChangeSubscriptionOptions,
} from '../ports/change-feed.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { ShardRepository } from '../ports/shard.repository.port.js';
import { KeyedSerialQueue } from './keyed-serial-queue.js';
import type { ShardChange } from './shard-change.js';

export interface ShardWatch {
  /** Every shard, removed ones included, as of `revision`. */
  readonly snapshot: readonly Shard[];
  readonly revision: number;
  /** Every change applied after the snapshot, in revision order. */
  readonly changes: ChangeSubscription<ShardChange>;
}

/**
 * The registry as this process serves it: every shard in memory, persisted on lifecycle changes.
 * Commands on one shard run one at a time (decide → persist → apply → publish), so a heartbeat
 * never races the transaction that fails its shard. A change is visible to readers and watchers
 * only after it has committed, and gets its revision when it is applied, so watchers see
 * revisions in increasing order.
 */
export class ShardRegistry {
  private readonly shards = new Map<string, Shard>();
  private readonly queue = new KeyedSerialQueue();
  private revision = 0;
  private watchingSince = 0;

  constructor(
    private readonly repository: ShardRepository,
    private readonly clock: Clock,
    private readonly feed: ChangeFeed<ShardChange>,
  ) {}

  /** Loads the stored registry. Call once, before serving. */
  async load(): Promise<number> {
    const stored = await this.repository.loadAll();
    const nowMs = this.clock.nowMs();
    // Fresh revisions: everything served from now on is newer than what a watcher saw before a restart.
    for (const shard of stored) {
      this.revision = nextRevision(this.revision, nowMs);
      this.shards.set(shard.shardId, { ...shard, revision: this.revision });
    }
    this.watchingSince = nowMs;
    return stored.length;
  }

  /** When this registry started watching heartbeats; silence before it does not count. */
  get watchingSinceMs(): number {
    return this.watchingSince;
  }

  get currentRevision(): number {
    return this.revision;
  }

  get(shardId: string): Shard | undefined {
    return this.shards.get(shardId);
  }

  stateOf(shardId: string): ShardState | undefined {
    return this.shards.get(shardId)?.state;
  }

  all(): IterableIterator<Shard> {
    return this.shards.values();
  }

  /** Whether a command for the shard is queued or running. */
  isBusy(shardId: string): boolean {
    return this.queue.isBusy(shardId);
  }

  /** A consistent snapshot plus every later change. Synchronous, so no change falls in between. */
  watch(options: ChangeSubscriptionOptions): ShardWatch {
    const changes = this.feed.subscribe(options);
    return { snapshot: [...this.shards.values()], revision: this.revision, changes };
  }

  /**
   * Runs one command against one shard. `command` is built when the shard's turn comes, with the
   * time of that moment. Returns the shard afterwards (unchanged when the command changed nothing);
   * throws the DomainError of a refusal.
   */
  execute(shardId: string, command: (nowMs: number) => ShardCommand): Promise<Shard | undefined> {
    return this.queue.run(shardId, async () => {
      const nowMs = this.clock.nowMs();
      const before = this.shards.get(shardId);
      const decision = decide(command(nowMs), before);
      if (!decision.ok) throw decision.error;
      const after = evolveAll(before, decision.events);
      if (after === undefined || after === before) return before;
      const lifecycle = decision.events.filter(isLifecycleEvent);
      if (lifecycle.length > 0) await this.repository.save(after, lifecycle);
      return this.apply(before, after, lifecycle.length > 0);
    });
  }

  /** Resolves once every command submitted so far has finished; for orderly shutdown. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private apply(before: Shard | undefined, changed: Shard, lifecycle: boolean): Shard {
    this.revision = nextRevision(this.revision, this.clock.nowMs());
    const shard: Shard = { ...changed, revision: this.revision };
    this.shards.set(shard.shardId, shard);
    if (shard.state === 'removed') {
      this.feed.publish({ kind: 'removed', shard });
    } else {
      const previousPool =
        before !== undefined && before.pool !== shard.pool ? before.pool : undefined;
      this.feed.publish({ kind: 'upserted', shard, previousPool, lifecycle });
    }
    return shard;
  }
}
