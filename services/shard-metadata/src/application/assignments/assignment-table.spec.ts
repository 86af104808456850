import { anAssignment } from '../../domain/test.factories.js';
import { AssignmentTable } from './assignment-table.js';

describe('AssignmentTable', () => {
  it('returns what was stored', () => {
    const table = new AssignmentTable(2);
    const assignments = Array.from({ length: 5 }, (_, i) =>
      anAssignment({ shardId: `shard-${i % 2}`, version: i + 1 }),
    );
    for (const assignment of assignments) expect(table.apply(assignment)).toBe(true);
    expect(table.size).toBe(5);
    for (const assignment of assignments)
      expect(table.get(assignment.conversationId)).toEqual(assignment);
    expect([...table.entries()]).toEqual(assignments);
  });

  it('never goes back to an older version', () => {
    const table = new AssignmentTable();
    const v2 = anAssignment({ version: 2, shardId: 'shard-b' });
    table.apply(v2);
    expect(table.apply({ ...v2, version: 1, shardId: 'shard-a' })).toBe(false);
    expect(table.apply({ ...v2 })).toBe(false);
    expect(table.get(v2.conversationId)?.shardId).toBe('shard-b');
    expect(table.apply({ ...v2, version: 3, shardId: 'shard-c', reason: 'spill' })).toBe(true);
    expect(table.get(v2.conversationId)).toMatchObject({
      version: 3,
      shardId: 'shard-c',
      reason: 'spill',
    });
  });

  it('answers undefined for an unknown conversation', () => {
    expect(new AssignmentTable().get('nope')).toBeUndefined();
  });
});
