import { type ErrorCode } from '@spillway/errors';
import { Status } from 'nice-grpc-common';

/**
 * Trailing metadata with the domain code: the status alone cannot tell SHARD.DRAINING from
 * SHARD.UNAVAILABLE.
 */
export const ERROR_CODE_KEY = 'spillway-error-code';
/** Trailing metadata with the server's honest retry hint, in milliseconds. */
export const RETRY_AFTER_MS_KEY = 'retry-after-ms';
/** Trailing metadata with DomainError.details as JSON (caller-safe by contract). */
export const ERROR_DETAILS_KEY = 'spillway-error-details';

/**
 * Status message as "<CODE>: <message>", so someone reading plain grpcurl output sees the code;
 * fromGrpcError strips the prefix again.
 */
export function statusMessage(code: ErrorCode, message: string): string {
  return `${code}: ${message}`;
}

/**
 * The one mapping from domain codes to gRPC statuses. The status is what generic gRPC tooling
 * (retry policies, proxies, dashboards) acts on; the exact domain code travels beside it in
 * trailing metadata.
 */
export function toGrpcStatus(code: ErrorCode): Status {
  switch (code) {
    case 'REQUEST.INVALID':
      return Status.INVALID_ARGUMENT;
    case 'AUTH.UNAUTHENTICATED':
      return Status.UNAUTHENTICATED;
    case 'AUTH.FORBIDDEN':
      return Status.PERMISSION_DENIED;
    case 'CONVERSATION.NOT_FOUND':
    case 'SHARD.NOT_FOUND':
      return Status.NOT_FOUND;
    // Concurrency conflicts: the caller re-reads and retries at a higher level (gRPC's ABORTED).
    case 'CONVERSATION.VERSION_CONFLICT':
    case 'ASSIGNMENT.CONFLICT':
      return Status.ABORTED;
    // The state forbids the operation and retrying the same request will not change that.
    case 'CONVERSATION.CLOSED':
    case 'TURN.ALREADY_COMPLETED':
      return Status.FAILED_PRECONDITION;
    case 'QUOTA.EXCEEDED':
    case 'ADMISSION.SHED':
    case 'SHARD.OVERLOADED':
      return Status.RESOURCE_EXHAUSTED;
    // DEADLINE.UNMEETABLE is a refusal *before* any work starts: the queues are too deep to finish
    // inside the caller's budget. That is a capacity condition, so it shares RESOURCE_EXHAUSTED
    // with load shedding: safe to retry later or elsewhere, and it carries retry-after-ms.
    // DEADLINE_EXCEEDED would be wrong: it means "time ran out, the work may have happened",
    // which callers (and our own client deadline) treat as a timeout, not as back-pressure.
    case 'DEADLINE.UNMEETABLE':
      return Status.RESOURCE_EXHAUSTED;
    case 'SHARD.UNAVAILABLE':
    case 'SHARD.DRAINING':
    case 'DEPENDENCY.UNAVAILABLE':
      return Status.UNAVAILABLE;
    case 'ENGINE.TIMEOUT':
      return Status.DEADLINE_EXCEEDED;
    // The engine is another address space that answered something we cannot interpret: that is
    // gRPC's UNKNOWN, and it keeps INTERNAL for our own bugs on dashboards.
    case 'ENGINE.BAD_RESPONSE':
      return Status.UNKNOWN;
    case 'INTERNAL':
      return Status.INTERNAL;
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}

/**
 * Best-effort domain code for a status that arrived WITHOUT spillway-error-code, i.e. from
 * grpc-js itself (connection refused, deadline), a proxy, or a non-Spillway server. Only
 * statuses with one clear meaning map to a specific code; the rest become INTERNAL and the
 * caller still sees the original status in DomainError.details.grpcStatus.
 *
 * @param peerUnavailableCode what "the peer is gone" means to this caller: a router talking to an
 *   inference adapter wants SHARD.UNAVAILABLE, everyone else DEPENDENCY.UNAVAILABLE.
 */
export function errorCodeForStatus(status: Status, peerUnavailableCode: ErrorCode): ErrorCode {
  switch (status) {
    case Status.INVALID_ARGUMENT:
    case Status.OUT_OF_RANGE:
      return 'REQUEST.INVALID';
    case Status.UNAUTHENTICATED:
      return 'AUTH.UNAUTHENTICATED';
    case Status.PERMISSION_DENIED:
      return 'AUTH.FORBIDDEN';
    // The peer went away, did not answer in time, or pushed back: all "try again, maybe
    // elsewhere". A client-side cancel never gets here (it surfaces as an AbortError).
    case Status.UNAVAILABLE:
    case Status.CANCELLED:
    case Status.DEADLINE_EXCEEDED:
    case Status.RESOURCE_EXHAUSTED:
      return peerUnavailableCode;
    // NOT_FOUND / ABORTED / FAILED_PRECONDITION have several domain meanings; guessing one
    // would mislead the caller, so they stay INTERNAL with the status in details.
    case Status.OK:
    case Status.UNKNOWN:
    case Status.NOT_FOUND:
    case Status.ALREADY_EXISTS:
    case Status.FAILED_PRECONDITION:
    case Status.ABORTED:
    case Status.UNIMPLEMENTED:
    case Status.INTERNAL:
    case Status.DATA_LOSS:
      return 'INTERNAL';
    default: {
      const unhandled: never = status;
      return unhandled;
    }
  }
}
