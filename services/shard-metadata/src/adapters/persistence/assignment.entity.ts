import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-transformer.js';

/** One conversation's pin to a shard, with the version compare-and-set checks. */
@Entity({ name: 'assignments' })
@Index('assignments_by_shard', ['shardId', 'conversationId'])
export class AssignmentEntity {
  @PrimaryColumn({ name: 'conversation_id', type: 'text' })
  conversationId!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'shard_id', type: 'text' })
  shardId!: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  version!: number;

  @Column({ name: 'updated_at_ms', type: 'bigint', transformer: bigintAsNumber })
  updatedAtMs!: number;

  @Column({ type: 'text' })
  reason!: string;
}
