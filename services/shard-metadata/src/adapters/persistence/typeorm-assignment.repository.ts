import type { DataSource } from 'typeorm';
import type {
  AssignmentRepository,
  CompareAndSetResult,
} from '../../application/ports/assignment.repository.port.js';
import type { Assignment, CompareAndSet } from '../../domain/assignment.js';
import { AssignmentEntity } from './assignment.entity.js';
import { againstDatabase } from './database-unavailable.js';

const LOAD_BATCH = 10_000;

/**
 * The assignment map in PostgreSQL. Compare-and-set is one statement, so the database decides
 * races: `INSERT … ON CONFLICT DO NOTHING` for "only if unassigned", `UPDATE … WHERE version =
 * expected` otherwise. Only when it did not apply is the current row read, in a second statement
 * that sees every commit made before it.
 */
export class TypeOrmAssignmentRepository implements AssignmentRepository {
  constructor(private readonly dataSource: DataSource) {}

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
    const result = await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(AssignmentEntity)
      .values({
        conversationId: request.conversationId,
        tenantId: request.tenantId,
        shardId: request.shardId,
        version: 1,
        updatedAtMs: nowMs,
        reason: request.reason,
      })
      .orIgnore()
      .returning('*')
      .execute();
    return firstRow(result.raw);
  }

  private async updateIfVersion(
    request: CompareAndSet,
    nowMs: number,
  ): Promise<Assignment | undefined> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(AssignmentEntity)
      .set({
        shardId: request.shardId,
        version: () => 'version + 1',
        updatedAtMs: nowMs,
        reason: request.reason,
      })
      .where('conversation_id = :conversationId AND version = :expected', {
        conversationId: request.conversationId,
        expected: request.expectedVersion,
      })
      .returning('*')
      .execute();
    return firstRow(result.raw);
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
