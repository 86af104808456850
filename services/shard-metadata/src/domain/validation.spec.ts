import { aShardSpec } from './test.factories.js';
import { checkEndpoint, validateShardSpec } from './validation.js';

describe('shard registration validation', () => {
  it('accepts a valid spec', () => {
    expect(validateShardSpec(aShardSpec())).toBeUndefined();
  });

  it.each(['127.0.0.1:50061', 'adapter-3.svc.cluster.local:7000', '[::1]:50061', 'localhost:1'])(
    'accepts endpoint %s',
    (endpoint) => {
      expect(checkEndpoint('shard.endpoint', endpoint)).toBeUndefined();
    },
  );

  it.each([
    '',
    'localhost',
    '127.0.0.1:',
    ':50061',
    '127.0.0.1:0',
    '127.0.0.1:70000',
    'http://127.0.0.1:5',
    'a b:5',
  ])('rejects endpoint %j naming shard.endpoint', (endpoint) => {
    const error = validateShardSpec(aShardSpec({ endpoint }));
    expect(error?.code).toBe('REQUEST.INVALID');
    expect(error?.message).toMatch(/^shard\.endpoint /);
  });

  it.each([
    [{ shardId: '' }, 'shard.shard_id'],
    [{ pool: '' }, 'shard.pool'],
    [{ costPerHour: -1 }, 'shard.cost_per_hour'],
    [{ shardId: 'x'.repeat(129) }, 'shard.shard_id'],
  ])('names the field of %j', (overrides, field) => {
    expect(validateShardSpec(aShardSpec(overrides))?.details).toEqual({ field });
  });
});
