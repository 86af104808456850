import { DomainError } from '@spillway/errors';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * Runs a database operation; losing PostgreSQL becomes DEPENDENCY.UNAVAILABLE (gRPC UNAVAILABLE,
 * retryable) instead of an anonymous INTERNAL, so callers such as a heartbeating adapter back off
 * and retry. Every other error passes through unchanged.
 */
export async function againstDatabase<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isConnectionFailure(error)) throw error;
    throw new DomainError(
      'DEPENDENCY.UNAVAILABLE',
      `the registry database is unavailable (${operation}); retry shortly`,
      {
        cause: error,
        retryAfterSeconds: 1,
      },
    );
  }
}

function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, message, driverError, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  // SQLSTATE class 08 (connection exception) and 57P0x (server shutting down or starting).
  if (
    typeof code === 'string' &&
    (code.startsWith('08') || code.startsWith('57P0') || NETWORK_CODES.has(code))
  )
    return true;
  if (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect/i.test(message)
  )
    return true;
  if (Array.isArray(errors) && errors.some((inner) => isConnectionFailure(inner, depth + 1)))
    return true;
  return isConnectionFailure(driverError, depth + 1) || isConnectionFailure(cause, depth + 1);
}
