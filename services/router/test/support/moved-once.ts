import type { MigrationWorld } from './migration-world.js';

/**
 * Every conversation in `ids` left `from` for one of `to`, pinned there by a migration, with
 * exactly one ConversationMigrated in its stream and the new shard prewarmed for it.
 */
export async function expectEachMovedOnce(
  world: MigrationWorld,
  ids: readonly string[],
  to: readonly string[],
): Promise<void> {
  for (const conversationId of ids) {
    const assignment = await world.assignment(conversationId);
    expect(to).toContain(assignment?.shardId);
    expect(assignment?.reason).toBe('migration');
    const migrated = await world.migratedEvents(conversationId);
    expect(migrated).toHaveLength(1);
    expect(migrated[0]?.metadata?.correlationId).toMatch(/^mig-/);
    expect(world.prewarmed.get(conversationId)?.[0]).toBe(assignment?.shardId);
  }
}
