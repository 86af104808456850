import type { FastifyInstance } from 'fastify';

/** A JSON body that did not parse; handed to the controller so it can answer in OpenAI's shape. */
export class InvalidJsonBody {
  constructor(readonly reason: string) {}
}

/** Large enough for a 128k-token prompt sent as token ids. */
export const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Replaces Fastify's JSON parser so a malformed body reaches the route as an InvalidJsonBody value
 * instead of failing before any controller runs.
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(null, new InvalidJsonBody('the body is empty'));
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        done(null, new InvalidJsonBody((error as Error).message));
      }
    },
  );
}
