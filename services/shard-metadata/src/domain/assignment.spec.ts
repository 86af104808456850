import {
  checkAssignableShard,
  compareAndSet,
  isNewer,
  validateCompareAndSet,
  type CompareAndSet,
} from './assignment.js';

const request = (overrides: Partial<CompareAndSet> = {}): CompareAndSet => ({
  conversationId: 'conv-1',
  tenantId: 'tenant-1',
  shardId: 'shard-1',
  expectedVersion: 0,
  reason: 'placed',
  ...overrides,
});

describe('assignment compare-and-set rule', () => {
  it('applies "only if unassigned" to an unassigned conversation, at version 1', () => {
    expect(compareAndSet(undefined, { expectedVersion: 0 })).toEqual({ applied: true, version: 1 });
  });

  it('does not apply "only if unassigned" to an assigned conversation', () => {
    expect(compareAndSet(1, { expectedVersion: 0 })).toEqual({ applied: false });
  });

  it('applies when the stored version is the expected one, and bumps it', () => {
    expect(compareAndSet(4, { expectedVersion: 4 })).toEqual({ applied: true, version: 5 });
  });

  it('does not apply on a stale or a future expected version', () => {
    expect(compareAndSet(4, { expectedVersion: 3 })).toEqual({ applied: false });
    expect(compareAndSet(4, { expectedVersion: 5 })).toEqual({ applied: false });
    expect(compareAndSet(undefined, { expectedVersion: 2 })).toEqual({ applied: false });
  });

  it('orders views of one assignment by version', () => {
    expect(isNewer({ version: 3 }, { version: 2 })).toBe(true);
    expect(isNewer({ version: 2 }, { version: 2 })).toBe(false);
    expect(isNewer({ version: 1 }, undefined)).toBe(true);
  });

  it.each([
    [{ conversationId: '' }, 'conversation_id'],
    [{ shardId: '' }, 'shard_id'],
    [{ shardId: 'has space' }, 'shard_id'],
    [{ tenantId: 'bad tenant' }, 'tenant_id'],
    [{ expectedVersion: -1 }, 'expected_version'],
    [{ expectedVersion: 1.5 }, 'expected_version'],
  ])('names the bad field in %j', (overrides, field) => {
    const error = validateCompareAndSet(request(overrides));
    expect(error?.code).toBe('REQUEST.INVALID');
    expect(error?.message.startsWith(field)).toBe(true);
    expect(error?.details).toEqual({ field });
  });

  it('accepts an empty tenant id', () => {
    expect(validateCompareAndSet(request({ tenantId: '' }))).toBeUndefined();
  });

  it('pins only to shards that take conversations', () => {
    expect(checkAssignableShard('s', 'ready')).toBeUndefined();
    expect(checkAssignableShard('s', 'starting')).toBeUndefined();
    expect(checkAssignableShard('s', undefined)?.code).toBe('SHARD.NOT_FOUND');
    expect(checkAssignableShard('s', 'draining')?.code).toBe('SHARD.DRAINING');
    expect(checkAssignableShard('s', 'failed')?.code).toBe('SHARD.UNAVAILABLE');
    expect(checkAssignableShard('s', 'removed')?.code).toBe('SHARD.NOT_FOUND');
  });
});
