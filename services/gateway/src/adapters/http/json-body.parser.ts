import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidRequest } from '../../application/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * The only body parser: `application/json` in strict UTF-8. Fastify's own parsers (which decode
 * invalid UTF-8 into U+FFFD and also accept text/plain) are removed, so anything else is 415.
 */
export function installJsonBodyParser(app: FastifyInstance, bodyLimitBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: bodyLimitBytes },
    (request: FastifyRequest, body: Buffer, done) => {
      try {
        done(null, parseJsonBody(request, body));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}

export function parseJsonBody(request: FastifyRequest, body: Buffer): unknown {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw invalidRequest(
      'Content-Type',
      `Unsupported charset '${charset}'; JSON bodies must be UTF-8.`,
      'unsupported_charset',
    );
  }
  if (body.length === 0)
    throw invalidRequest('body', 'The JSON request body is empty.', 'invalid_json');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw invalidRequest(
      'body',
      `The request body is not valid UTF-8 (first bad byte near offset ${firstInvalidUtf8Offset(body)}).`,
      'invalid_utf8',
    );
  }
  try {
    // The reviver visits every value; only a body that could name a forbidden key needs it
    // (a key can be spelled with \u escapes, so any escape sends the body the careful way).
    return mayNamePrototypeKey(text) ? JSON.parse(text, rejectPrototypeKeys) : JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw invalidRequest(
        'body',
        `The request body is not valid JSON: ${error.message}`,
        'invalid_json',
      );
    throw error;
  }
}

function mayNamePrototypeKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('prototype') || text.includes('\\u');
}

/** `__proto__` / `constructor.prototype` keys: prototype-poisoning attempts, never legitimate here. */
function rejectPrototypeKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'prototype' && this !== null && typeof this === 'object')) {
    throw invalidRequest(key, `The JSON key '${key}' is not allowed.`, 'invalid_json');
  }
  return value;
}

function firstInvalidUtf8Offset(body: Buffer): number {
  let low = 0;
  let high = body.length;
  // Binary search for the shortest prefix that fails; a valid prefix may end mid-character.
  while (low < high) {
    const mid = (low + high) >>> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, mid + 1), { stream: true });
      low = mid + 1;
    } catch {
      high = mid;
    }
  }
  return low;
}
