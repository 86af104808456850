import type { ServerResponse } from 'node:http';
import type { ServeRefusal } from '../../application/serve-completion.use-case.js';

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
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
  readonly retryAfterSeconds?: number;
}

export function openAiError(
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): HttpError {
  return { status, body: { error: { message, type, param, code } } };
}

export function invalidRequest(param: string | null, message: string): HttpError {
  return openAiError(400, message, 'invalid_request_error', param);
}

export function refusalToHttp(refusal: ServeRefusal): HttpError {
  switch (refusal.kind) {
    case 'invalid':
      return invalidRequest(refusal.param, refusal.message);
    case 'loading':
      return {
        ...openAiError(503, refusal.message, 'service_unavailable', null, 'model_loading'),
        retryAfterSeconds: 1,
      };
    case 'draining':
      return {
        ...openAiError(503, refusal.message, 'service_unavailable', null, 'shutting_down'),
        retryAfterSeconds: 1,
      };
    case 'injected-error':
      return openAiError(
        refusal.status,
        refusal.message,
        refusal.status === 503 ? 'service_unavailable' : 'server_error',
      );
    default: {
      const unhandled: never = refusal;
      return unhandled;
    }
  }
}

/** Writes an error on the raw response (used after a Fastify reply was hijacked or by filters). */
export function writeHttpError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(error.retryAfterSeconds);
  res.writeHead(error.status, headers);
  res.end(JSON.stringify(error.body));
}
