import { QueryFailedError } from 'typeorm';
import { databaseUnavailable, isDatabaseOutage } from './database-outage.js';

const withCode = (code: string, message = 'x'): Error =>
  Object.assign(new Error(message), { code });

describe('isDatabaseOutage', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a server shutting down (57P01)', withCode('57P01', 'terminating connection')],
    ['a server starting up (57P03)', withCode('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', withCode('08006')],
    [
      'a lost connection inside a TypeORM query',
      new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
    ],
    ['a refused multi-address connect', new AggregateError([withCode('ECONNREFUSED')], '')],
  ])('recognises %s', (_, error) => {
    expect(isDatabaseOutage(error)).toBe(true);
  });

  it.each([
    ['a unique violation', new QueryFailedError('INSERT', [], withCode('23505'))],
    ['a cancelled statement', withCode('57014', 'canceling statement due to user request')],
    ['a bug', new TypeError('cannot read properties of undefined')],
  ])('does not mistake %s for an outage', (_, error) => {
    expect(isDatabaseOutage(error)).toBe(false);
  });
});

describe('databaseUnavailable', () => {
  it('is retryable and says whether the append may have been stored', () => {
    const error = databaseUnavailable('append', new Error('gone'), true);
    expect(error.code).toBe('DEPENDENCY.UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ maybeApplied: true });
    expect(error.message).toMatch(/read the stream version before retrying/);
  });
});
