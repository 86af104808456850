import { aDirectory, aShard } from '../testing/factories.js';
import { deriveModelRoutes } from './derived-routes.js';

describe('derived model routes', () => {
  it('routes every model the shards serve over all of its pools, equally, leaving removed shards out', () => {
    const shards = aDirectory(
      aShard({ id: 'a', model: 'llama', pool: 'p2' }),
      aShard({ id: 'b', model: 'llama', pool: 'p1' }),
      aShard({ id: 'c', model: 'llama', pool: 'p1' }),
      aShard({ id: 'd', model: 'mistral', pool: 'p3', state: 'removed' }),
    );
    expect(deriveModelRoutes(shards)).toEqual({
      models: {
        llama: {
          pools: [
            { pool: 'p1', weight: 1 },
            { pool: 'p2', weight: 1 },
          ],
        },
      },
    });
  });

  it('is empty when no shard is known', () => {
    expect(deriveModelRoutes(aDirectory())).toEqual({ models: {} });
  });
});
