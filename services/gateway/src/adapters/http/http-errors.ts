import { HttpException } from '@nestjs/common';
import { type DomainError, type ErrorCode, isDomainError } from '@spillway/errors';
import { QuotaExceededError } from '../../application/errors.js';
import { retryAfterSeconds } from '../../domain/rate-limit.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/** OpenAI's error body. `type` groups errors; `code` is the stable machine-readable reason. */
export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

export interface HttpError {
  readonly status: number;
  readonly body: OpenAiErrorBody;
  readonly headers: Readonly<Record<string, string>>;
}

interface Mapping {
  readonly status: number;
  readonly type: string;
  readonly code: string;
}

/** The one mapping from domain codes to HTTP. Load is always 429, never 5xx. */
export function httpStatusFor(code: ErrorCode): Mapping {
  switch (code) {
    case 'REQUEST.INVALID':
      return { status: 400, type: 'invalid_request_error', code: 'invalid_value' };
    case 'AUTH.UNAUTHENTICATED':
      return { status: 401, type: 'authentication_error', code: 'invalid_api_key' };
    case 'AUTH.FORBIDDEN':
      return { status: 403, type: 'permission_error', code: 'forbidden' };
    case 'CONVERSATION.NOT_FOUND':
      return { status: 404, type: 'not_found_error', code: 'conversation_not_found' };
    case 'SHARD.NOT_FOUND':
      return { status: 503, type: 'server_error', code: 'shard_not_found' };
    case 'CONVERSATION.VERSION_CONFLICT':
      return { status: 409, type: 'conflict_error', code: 'conversation_version_conflict' };
    case 'ASSIGNMENT.CONFLICT':
      return { status: 409, type: 'conflict_error', code: 'assignment_conflict' };
    case 'CONVERSATION.CLOSED':
      return { status: 409, type: 'conflict_error', code: 'conversation_closed' };
    // A duplicate of a request that is still running.
    case 'TURN.ALREADY_COMPLETED':
      return { status: 409, type: 'conflict_error', code: 'turn_in_progress' };
    case 'QUOTA.EXCEEDED':
      return { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' };
    case 'ADMISSION.SHED':
      return { status: 429, type: 'overloaded_error', code: 'server_overloaded' };
    case 'SHARD.OVERLOADED':
      return { status: 429, type: 'overloaded_error', code: 'server_overloaded' };
    case 'DEADLINE.UNMEETABLE':
      return { status: 429, type: 'overloaded_error', code: 'deadline_unmeetable' };
    // Outages, not load: the dependency is gone or misbehaved.
    case 'SHARD.UNAVAILABLE':
    case 'SHARD.DRAINING':
    case 'DEPENDENCY.UNAVAILABLE':
      return { status: 503, type: 'server_error', code: 'service_unavailable' };
    case 'ENGINE.BAD_RESPONSE':
      return { status: 502, type: 'server_error', code: 'bad_gateway' };
    case 'ENGINE.TIMEOUT':
      return { status: 504, type: 'server_error', code: 'timeout' };
    case 'INTERNAL':
      return { status: 500, type: 'server_error', code: 'internal_error' };
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}

/** Fastify's own refusals (body parsing, limits), by their error code. */
const FASTIFY_ERRORS: Readonly<
  Record<
    string,
    { status: number; code: string; param: string | null; message: (limit: string) => string }
  >
> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'request_too_large',
    param: 'body',
    message: (l) => `The request body is larger than the ${l}-byte limit.`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    param: 'Content-Type',
    message: () => 'Unsupported Content-Type; send the body as application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    param: 'body',
    message: () => 'The JSON request body is empty.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'invalid_content_length',
    param: 'Content-Length',
    message: () => 'Content-Length does not match the body that was sent.',
  },
  FST_ERR_CTP_INVALID_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    param: 'Content-Type',
    message: () => 'The Content-Type header is invalid.',
  },
};

export function toHttpError(exception: unknown, bodyLimitBytes: number): HttpError {
  if (isDomainError(exception)) return fromDomainError(exception);
  const byStatus = statusError(exception, bodyLimitBytes);
  if (byStatus) return byStatus;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const message =
      status === 404 ? exception.message.replace(/^Cannot /, 'Unknown route: ') : exception.message;
    return body(
      status,
      status === 404 ? 'not_found_error' : 'invalid_request_error',
      message,
      null,
      status === 404 ? 'unknown_url' : null,
    );
  }
  const fastifyCode = (exception as { code?: unknown }).code;
  if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_ERRORS) {
    const known = FASTIFY_ERRORS[fastifyCode]!;
    return body(
      known.status,
      'invalid_request_error',
      known.message(String(bodyLimitBytes)),
      known.param,
      known.code,
    );
  }
  const status = (exception as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return body(status, 'invalid_request_error', (exception as Error).message, null, null);
  }
  return body(
    500,
    'server_error',
    'The gateway failed to process the request. It has been logged.',
    null,
    'internal_error',
  );
}

/** Body-size and media-type refusals, however they were raised (Fastify error or Nest exception). */
function statusError(exception: unknown, bodyLimitBytes: number): HttpError | undefined {
  const status =
    exception instanceof HttpException
      ? exception.getStatus()
      : (exception as { statusCode?: unknown } | null)?.statusCode;
  if (status === 413)
    return body(
      413,
      'invalid_request_error',
      FASTIFY_ERRORS.FST_ERR_CTP_BODY_TOO_LARGE!.message(String(bodyLimitBytes)),
      'body',
      'request_too_large',
    );
  if (status === 415)
    return body(
      415,
      'invalid_request_error',
      FASTIFY_ERRORS.FST_ERR_CTP_INVALID_MEDIA_TYPE!.message(''),
      'Content-Type',
      'unsupported_media_type',
    );
  return undefined;
}

/** A few REQUEST.INVALID reasons have their own HTTP status, as OpenAI and the idempotency draft use. */
function statusForReason(code: ErrorCode, reason: string | undefined): number | undefined {
  if (code !== 'REQUEST.INVALID' || reason === undefined) return undefined;
  // model_not_found, tenant_not_found, key_not_found: OpenAI answers 404.
  if (reason.endsWith('_not_found')) return 404;
  if (reason === 'tenant_exists') return 409;
  // draft-ietf-httpapi-idempotency-key-header: the key was used with a different payload.
  if (reason === 'idempotency_key_reused') return 422;
  return undefined;
}

/** 5xx messages are fixed: what failed inside (addresses, peers) is for the logs only. */
function serverErrorMessage(status: number): string {
  switch (status) {
    case 502:
      return 'The inference backend sent a response the gateway could not use. Retry shortly.';
    case 503:
      return 'The chat service is temporarily unavailable. Retry shortly.';
    case 504:
      return 'The inference backend did not answer in time. Retry shortly.';
    default:
      return 'The gateway failed to process the request. It has been logged.';
  }
}

function fromDomainError(error: DomainError): HttpError {
  const mapping = httpStatusFor(error.code);
  const reason = typeof error.details.reason === 'string' ? error.details.reason : undefined;
  const param = typeof error.details.param === 'string' ? error.details.param : null;
  // REQUEST.INVALID about something that does not exist is OpenAI's 404 (model_not_found, ...).
  const status = statusForReason(error.code, reason) ?? mapping.status;
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503) {
    const retryAfterMs =
      error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 1000;
    headers['retry-after'] = String(retryAfterSeconds(retryAfterMs));
    headers['retry-after-ms'] = String(Math.ceil(retryAfterMs));
  }
  if (error instanceof QuotaExceededError) Object.assign(headers, rateLimitHeaders(error.decision));
  const message = status >= 500 ? serverErrorMessage(status) : error.message;
  return { ...body(status, mapping.type, message, param, reason ?? mapping.code), headers };
}

function body(
  status: number,
  type: string,
  message: string,
  param: string | null,
  code: string | null,
): HttpError {
  return { status, body: { error: { message, type, param, code } }, headers: {} };
}
