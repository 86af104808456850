import { DomainError } from '@spillway/errors';
import { QueryFailedError } from 'typeorm';

// Socket-level failures: the server is down, restarting or unreachable.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
// SQLSTATEs for "this server cannot serve you right now": class 08 (connection exception),
// admin_shutdown, crash_shutdown, cannot_connect_now (starting up / shutting down), too many clients.
const SERVER_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres reports a connection lost mid-query, or a pool that could not connect in time, as
// plain Errors without a code.
const DRIVER_MESSAGES =
  /Connection terminated|Connection ended|not queryable|timeout exceeded when trying to connect/i;

/** True when `error` means PostgreSQL could not be reached or went away, not that a statement failed. */
export function isDatabaseOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof AggregateError && current.errors.some(isDatabaseOutage)) return true;
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SERVER_STATES.has(code)))
      return true;
    if (typeof code === 'string' && code.startsWith('08')) return true;
    if (typeof message === 'string' && DRIVER_MESSAGES.test(message)) return true;
    current =
      current instanceof QueryFailedError
        ? (current.driverError as unknown)
        : (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The retryable error a caller sees for an outage (gRPC UNAVAILABLE). `maybeApplied` is for a
 * connection lost while COMMIT was in flight: the server may have committed before it went away,
 * so the caller must look before it writes the same events again.
 */
export function databaseUnavailable(
  operation: string,
  cause: unknown,
  maybeApplied = false,
): DomainError {
  const outcome = maybeApplied
    ? 'the connection was lost during commit, so the change may have been stored: read the stream version before retrying'
    : 'nothing was stored; retry with backoff';
  return new DomainError(
    'DEPENDENCY.UNAVAILABLE',
    `The conversation store's database is unavailable (${operation}); ${outcome}`,
    { cause, retryAfterSeconds: 1, details: { dependency: 'postgresql', maybeApplied } },
  );
}

/** Rethrows an outage as DEPENDENCY.UNAVAILABLE and anything else (a bug) unchanged. */
export function rethrowOutage(operation: string): (error: unknown) => never {
  return (error) => {
    throw isDatabaseOutage(error) ? databaseUnavailable(operation, error) : error;
  };
}
