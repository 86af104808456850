/**
 * Every code a Spillway component may return to a caller. Transports map these with exhaustive
 * switches (gRPC in @spillway/grpc, HTTP in the gateway), so adding a code is a compile error until
 * each mapper has decided what it means.
 */
export const ERROR_CODES = [
  'REQUEST.INVALID',
  'AUTH.UNAUTHENTICATED',
  'AUTH.FORBIDDEN',
  'CONVERSATION.NOT_FOUND',
  'CONVERSATION.VERSION_CONFLICT',
  'CONVERSATION.CLOSED',
  'TURN.ALREADY_COMPLETED',
  'QUOTA.EXCEEDED',
  'ADMISSION.SHED',
  'DEADLINE.UNMEETABLE',
  'SHARD.NOT_FOUND',
  'SHARD.UNAVAILABLE',
  'SHARD.OVERLOADED',
  'SHARD.DRAINING',
  'ENGINE.BAD_RESPONSE',
  'ENGINE.TIMEOUT',
  'ASSIGNMENT.CONFLICT',
  'DEPENDENCY.UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DomainErrorOptions {
  /** Seconds after which a retry may succeed; travels as Retry-After / retry-after-ms metadata. */
  readonly retryAfterSeconds?: number;
  /** Structured, caller-safe details (field names, limits). Never another tenant's data. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
  readonly cause?: unknown;
}

/**
 * An expected failure with a stable code. Messages are written for the caller: they say what was
 * wrong and how to fix it, and never contain a stack or internal identifiers of other tenants.
 */
export class DomainError extends Error {
  readonly retryAfterSeconds: number | undefined;
  readonly details: Readonly<Record<string, string | number | boolean>>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details ?? {};
  }

  /** Whether the same request may succeed later or elsewhere. */
  get retryable(): boolean {
    return isRetryable(this.code);
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}

export function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}

export function isRetryable(code: ErrorCode): boolean {
  switch (code) {
    case 'QUOTA.EXCEEDED':
    case 'ADMISSION.SHED':
    case 'DEADLINE.UNMEETABLE':
    case 'SHARD.UNAVAILABLE':
    case 'SHARD.OVERLOADED':
    case 'SHARD.DRAINING':
    case 'ENGINE.TIMEOUT':
    case 'ASSIGNMENT.CONFLICT':
    case 'DEPENDENCY.UNAVAILABLE':
      return true;
    case 'REQUEST.INVALID':
    case 'AUTH.UNAUTHENTICATED':
    case 'AUTH.FORBIDDEN':
    case 'CONVERSATION.NOT_FOUND':
    case 'CONVERSATION.VERSION_CONFLICT':
    case 'CONVERSATION.CLOSED':
    case 'TURN.ALREADY_COMPLETED':
    case 'SHARD.NOT_FOUND':
    case 'ENGINE.BAD_RESPONSE':
    case 'INTERNAL':
      return false;
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}
