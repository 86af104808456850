import { againstDatabase } from './database-unavailable.js';

describe('againstDatabase', () => {
  const refused = Object.assign(
    new AggregateError([Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })]),
    {
      message: '',
    },
  );

  it.each([
    ['a refused connection', refused],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    [
      'a server shutting down (57P01)',
      Object.assign(new Error('terminating connection'), { code: '57P01' }),
    ],
    [
      'a TypeORM error around a connection failure',
      Object.assign(new Error('query failed'), { driverError: { code: '08006' } }),
    ],
  ])('turns %s into DEPENDENCY.UNAVAILABLE', async (_case, error) => {
    await expect(againstDatabase('save shard', () => Promise.reject(error))).rejects.toMatchObject({
      code: 'DEPENDENCY.UNAVAILABLE',
      message: expect.stringContaining('save shard') as string,
    });
  });

  it('passes other errors through', async () => {
    const violation = Object.assign(new Error('duplicate key'), { code: '23505' });
    await expect(againstDatabase('save shard', () => Promise.reject(violation))).rejects.toBe(
      violation,
    );
  });
});
