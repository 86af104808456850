import { type Span } from '@opentelemetry/api';
import { type DomainError, isDomainError } from '@spillway/errors';
import { recordError } from '@spillway/telemetry';
import { type CallContext, ServerError, Status } from 'nice-grpc-common';
import {
  ERROR_CODE_KEY,
  ERROR_DETAILS_KEY,
  RETRY_AFTER_MS_KEY,
  statusMessage,
  toGrpcStatus,
} from '../errors/grpc-status.js';

/** Where unexpected handler failures go; defaults to stderr. */
export interface GrpcErrorLog {
  error(message: string, fields: Readonly<Record<string, unknown>>): void;
}

export const stderrErrorLog: GrpcErrorLog = {
  error: (message, fields) => console.error(message, fields),
};

const GENERIC_INTERNAL_MESSAGE = 'Internal server error';

/**
 * Turns what a handler threw into what the client may see: a DomainError keeps its code (in
 * trailing metadata) and caller-written message; anything else is a bug or an outage, so the
 * client gets a generic INTERNAL and the details go to the log and the span only. A ServerError
 * or an abort passes through as it is. Runs on the error path only.
 */
export function toClientVisibleError(
  error: unknown,
  path: string,
  context: CallContext,
  span: Span,
  log: GrpcErrorLog,
): unknown {
  if (error instanceof ServerError || isAbortError(error)) return error;
  if (isDomainError(error)) return toServerError(error, context);
  // The stack belongs in the trace and the log, never on the wire.
  recordError(span, error);
  log.error(`gRPC ${path} failed with an unexpected error`, {
    method: path,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return new ServerError(Status.INTERNAL, GENERIC_INTERNAL_MESSAGE);
}

function toServerError(error: DomainError, context: CallContext): ServerError {
  context.trailer.set(ERROR_CODE_KEY, error.code);
  if (error.retryAfterSeconds !== undefined) {
    context.trailer.set(
      RETRY_AFTER_MS_KEY,
      String(Math.max(0, Math.round(error.retryAfterSeconds * 1000))),
    );
  }
  if (Object.keys(error.details).length > 0) {
    context.trailer.set(ERROR_DETAILS_KEY, asciiJson(error.details));
  }
  return new ServerError(toGrpcStatus(error.code), statusMessage(error.code, error.message));
}

/** Metadata values must be printable ASCII; JSON escapes let any detail value through intact. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A cancelled call: nice-grpc answers CANCELLED itself; neither a bug nor a domain error. */
function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
