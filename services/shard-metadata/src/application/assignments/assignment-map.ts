import type { Assignment, CompareAndSet } from '../../domain/assignment.js';
import type {
  AssignmentRepository,
  CompareAndSetResult,
} from '../ports/assignment.repository.port.js';
import type {
  ChangeFeed,
  ChangeSubscription,
  ChangeSubscriptionOptions,
} from '../ports/change-feed.port.js';
import type { Clock } from '../ports/clock.port.js';
import { AssignmentTable } from './assignment-table.js';

export interface AssignmentWatch {
  /** Every assignment; read lazily, so entries changed while it is read may show the newer version. */
  readonly snapshot: Iterable<Assignment>;
  /** Every change committed after the watch began. */
  readonly changes: ChangeSubscription<Assignment>;
}

/**
 * The conversation → shard map: authoritative in PostgreSQL, served from memory. Memory follows
 * committed writes only, and a version never goes backwards in it.
 */
export class AssignmentMap {
  private readonly table = new AssignmentTable();

  constructor(
    private readonly repository: AssignmentRepository,
    private readonly clock: Clock,
    private readonly feed: ChangeFeed<Assignment>,
  ) {}

  /** Loads the stored map. Call once, before serving. */
  load(): Promise<number> {
    return this.repository.loadAll((batch) => {
      for (const assignment of batch) this.table.apply(assignment);
    });
  }

  get size(): number {
    return this.table.size;
  }

  get(conversationId: string): Assignment | undefined {
    return this.table.get(conversationId);
  }

  async compareAndSet(request: CompareAndSet): Promise<CompareAndSetResult> {
    const result = await this.repository.compareAndSet(request, this.clock.nowMs());
    // A lost race still tells us the stored truth, which may be newer than memory.
    if (result.current) this.accept(result.current);
    return result;
  }

  listByShard(shardId: string, limit: number, afterConversationId: string): Promise<Assignment[]> {
    return this.repository.listByShard(shardId, limit, afterConversationId);
  }

  /** Subscribes first, then reads, so no change falls between the snapshot and the feed. */
  watch(options: ChangeSubscriptionOptions): AssignmentWatch {
    const changes = this.feed.subscribe(options);
    return { snapshot: this.table.entries(), changes };
  }

  private accept(assignment: Assignment): void {
    if (this.table.apply(assignment)) this.feed.publish(assignment);
  }
}
