import { hash53 } from '../../domain/index.js';

/**
 * The id of moving one conversation off one shard for one cause. Deterministic, so a saga that runs
 * again for the same event (a crash, a redelivery, a second replica) records the same migration,
 * which conversation-state appends only once.
 */
export function migrationId(fromShardId: string, causeId: string, conversationId: string): string {
  const key = `${fromShardId}\u0000${causeId}\u0000${conversationId}`;
  return `mig-${hex(hash53(key, 1))}${hex(hash53(key, 2))}`;
}

function hex(value: number): string {
  return value.toString(16).padStart(14, '0');
}
