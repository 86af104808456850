import { DomainError, isDomainError, isErrorCode, type ErrorCode } from '@spillway/errors';
import { type Metadata, Status } from 'nice-grpc-common';
import {
  ERROR_CODE_KEY,
  ERROR_DETAILS_KEY,
  errorCodeForStatus,
  RETRY_AFTER_MS_KEY,
} from './grpc-status.js';

/** The part of nice-grpc's ClientError / ServerError this module reads. */
export interface GrpcStatusError {
  readonly code: Status;
  readonly details: string;
}

export interface FromGrpcErrorOptions {
  /** Code for UNAVAILABLE & co. when the server sent none; default DEPENDENCY.UNAVAILABLE. */
  readonly peerUnavailableCode?: ErrorCode;
}

type Details = Record<string, string | number | boolean>;

/**
 * Turns a gRPC failure back into the DomainError the server threw. The trailer carries the exact
 * domain code (see the server's error mapping); without it the status is mapped best-effort.
 * The original status is always kept in `details.grpcStatus` for logs and decisions.
 */
export function fromGrpcError(
  error: GrpcStatusError | DomainError,
  trailer?: Metadata,
  options: FromGrpcErrorOptions = {},
): DomainError {
  if (isDomainError(error)) return error;
  const sent = trailer?.get(ERROR_CODE_KEY);
  const code =
    sent !== undefined && isErrorCode(sent)
      ? sent
      : errorCodeForStatus(error.code, options.peerUnavailableCode ?? 'DEPENDENCY.UNAVAILABLE');
  const retryAfterMs = Number(trailer?.get(RETRY_AFTER_MS_KEY));
  const details: Details = {
    ...parseDetails(trailer?.get(ERROR_DETAILS_KEY)),
    grpcStatus: Status[error.code],
  };
  return new DomainError(code, stripCodePrefix(error.details, code), {
    details,
    cause: error,
    ...(Number.isFinite(retryAfterMs) && retryAfterMs >= 0
      ? { retryAfterSeconds: retryAfterMs / 1000 }
      : {}),
  });
}

function stripCodePrefix(details: string, code: ErrorCode): string {
  const prefix = `${code}: `;
  return details.startsWith(prefix) ? details.slice(prefix.length) : details;
}

function parseDetails(raw: string | undefined): Details {
  if (raw === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const details: Details = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        details[key] = value;
    }
    return details;
  } catch {
    // Details are a courtesy; a malformed value must not hide the error itself.
    return {};
  }
}
