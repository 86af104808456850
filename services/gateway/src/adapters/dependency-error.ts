import { DomainError, isDomainError } from '@spillway/errors';

/**
 * A failing store (Redis, PostgreSQL) is an outage: DEPENDENCY.UNAVAILABLE (503 with Retry-After),
 * never a bare 500. The original error stays as the cause, for the logs.
 */
export async function asDependency<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (isDomainError(error)) throw error;
    throw new DomainError('DEPENDENCY.UNAVAILABLE', `${what} is unavailable`, {
      retryAfterSeconds: 1,
      cause: error,
    });
  }
}
