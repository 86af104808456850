import type { DataSource } from 'typeorm';
import type {
  AssignmentRepository,
  CompareAndSetResult,
} from '../../application/ports/assignment.repository.port.js';
import type { Assignment, CompareAndSet } from '../../domain/assignment.js';
import { AssignmentEntity } from './assignment.entity.js';
import { againstDatabase } from './database-unavailable.js';
import { fencedWrite, storedTerm, termHolds, type LeaderTerm } from './leader-term.js';

const LOAD_BATCH = 10_000;

/**
 * The assignment map in PostgreSQL. Compare-and-set is one statement, so the database decides
 * races: `INSERT … ON CONFLICT DO NOTHING` for "only if unassigned", `UPDATE … WHERE version =
 * expected` otherwise, each only while this instance's leader term holds (leader-term.ts). Only
 * when it did not apply are the term and the current row read, in statements that see every commit
 * made before them.
 */
export class TypeOrmAssignmentRepository implements AssignmentRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly term: LeaderTerm,
  ) {}

  loadAll(onBatch: (batch: readonly Assignment[]) => void): Promise<number> {
    return againstDatabase('load assignments', () => this.loadInBatches(onBatch));
  }

  private async loadInBatches(onBatch: (batch: readonly Assignment[]) => void): Promise<number> {
    const repository = this.dataSource.getRepository(AssignmentEntity);
    let after = '';
    let total = 0;
    // Keyset pages rather than OFFSET: each page is an index range scan however far in we are.
    for (;;) {
      const rows = await repository
        .createQueryBuilder('a')
        .where('a.conversation_id > :after', { after })
        .orderBy('a.conversation_id', 'ASC')
        .limit(LOAD_BATCH)
        .getMany();
      if (rows.length === 0) return total;
      onBatch(rows.map(toAssignment));
      total += rows.length;
      after = rows[rows.length - 1]?.conversationId ?? after;
      if (rows.length < LOAD_BATCH) return total;
    }
  }

  compareAndSet(request: CompareAndSet, nowMs: number): Promise<CompareAndSetResult> {
    return againstDatabase('compare-and-set assignment', () =>
      this.compareAndSetOnce(request, nowMs),
    );
  }

  listByShard(shardId: string, limit: number, afterConversationId: string): Promise<Assignment[]> {
    return againstDatabase('list assignments', () =>
      this.page(shardId, limit, afterConversationId),
    );
  }

  private async compareAndSetOnce(
    request: CompareAndSet,
    nowMs: number,
  ): Promise<CompareAndSetResult> {
    const written =
      request.expectedVersion === 0
        ? await this.insertIfAbsent(request, nowMs)
        : await this.updateIfVersion(request, nowMs);
    if (written) return { applied: true, current: written };
    const term = await storedTerm(this.dataSource);
    if (term !== this.term.term) throw fencedWrite('compare-and-set assignment', this.term, term);
    const current = await this.dataSource
      .getRepository(AssignmentEntity)
      .findOneBy({ conversationId: request.conversationId });
    return { applied: false, current: current ? toAssignment(current) : undefined };
  }

  private async page(
    shardId: string,
    limit: number,
    afterConversationId: string,
  ): Promise<Assignment[]> {
    const query = this.dataSource
      .getRepository(AssignmentEntity)
      .createQueryBuilder('a')
      .where('a.conversation_id > :after', { after: afterConversationId })
      .orderBy('a.conversation_id', 'ASC')
      .limit(limit);
    if (shardId !== '') query.andWhere('a.shard_id = :shardId', { shardId });
    return (await query.getMany()).map(toAssignment);
  }

  private async insertIfAbsent(
    request: CompareAndSet,
    nowMs: number,
  ): Promise<Assignment | undefined> {
    const rows: unknown = await this.dataSource.query(
      `INSERT INTO assignments
         (conversation_id, tenant_id, shard_id, version, updated_at_ms, reason)
       SELECT $1, $2, $3, 1, $4, $5 WHERE ${termHolds(6)}
       ON CONFLICT (conversation_id) DO NOTHING
       RETURNING *`,
      [
        request.conversationId,
        request.tenantId,
        request.shardId,
        nowMs,
        request.reason,
        this.term.term,
      ],
    );
    return firstRow(rows);
  }

  private async updateIfVersion(
    request: CompareAndSet,
    nowMs: number,
  ): Promise<Assignment | undefined> {
    // pg answers an UPDATE … RETURNING with [rows, count].
    const [rows]: [unknown, number] = await this.dataSource.query(
      `UPDATE assignments
       SET shard_id = $3, version = version + 1, updated_at_ms = $4, reason = $5
       WHERE conversation_id = $1 AND version = $2 AND ${termHolds(6)}
       RETURNING *`,
      [
        request.conversationId,
        request.expectedVersion,
        request.shardId,
        nowMs,
        request.reason,
        this.term.term,
      ],
    );
    return firstRow(rows);
  }
}

interface AssignmentRow {
  readonly conversation_id: string;
  readonly tenant_id: string;
  readonly shard_id: string;
  readonly version: string | number;
  readonly updated_at_ms: string | number;
  readonly reason: string;
}

/** RETURNING rows come back raw (column names, int8 as strings). */
function firstRow(raw: unknown): Assignment | undefined {
  const row = Array.isArray(raw) ? (raw[0] as AssignmentRow | undefined) : undefined;
  if (!row) return undefined;
  return {
    conversationId: row.conversation_id,
    tenantId: row.tenant_id,
    shardId: row.shard_id,
    version: Number(row.version),
    updatedAtMs: Number(row.updated_at_ms),
    reason: row.reason,
  };
}

function toAssignment(row: AssignmentEntity): Assignment {
  return {
    conversationId: row.conversationId,
    tenantId: row.tenantId,
    shardId: row.shardId,
    version: row.version,
    updatedAtMs: row.updatedAtMs,
    reason: row.reason,
  };
}
