import { DomainError } from '@spillway/errors';

/** Default bound on connecting to Kafka or PostgreSQL: an outage is reported, never waited out. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Settles with `work`, or rejects with DeadlineExceeded after `timeoutMs`. The timer is cleared
 * either way so a settled call leaves nothing that keeps the process alive.
 */
export async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function brokersUnreachable(
  brokers: readonly string[],
  elapsedMs: number,
  cause: unknown,
): DomainError {
  return new DomainError(
    'DEPENDENCY.UNAVAILABLE',
    `Kafka broker(s) ${brokers.join(', ')} unreachable after ${Math.round(elapsedMs)} ms: ${describe(cause)}`,
    { cause, details: { brokers: brokers.join(',') } },
  );
}

export function databaseUnreachable(
  target: string,
  elapsedMs: number,
  cause: unknown,
): DomainError {
  return new DomainError(
    'DEPENDENCY.UNAVAILABLE',
    `PostgreSQL at ${target} unreachable after ${Math.round(elapsedMs)} ms: ${describe(cause)}`,
    { cause, details: { database: target } },
  );
}

/** kafkajs wraps the socket error a few levels deep; the innermost message is the useful one. */
function describe(cause: unknown): string {
  let current = cause;
  for (
    let depth = 0;
    depth < 8 && current instanceof Error && current.cause instanceof Error;
    depth++
  ) {
    current = current.cause;
  }
  if (!(current instanceof Error)) return String(current);
  // Node reports a refused multi-address connect as an AggregateError with an empty message.
  return current.message || (current as NodeJS.ErrnoException).code || current.name;
}
