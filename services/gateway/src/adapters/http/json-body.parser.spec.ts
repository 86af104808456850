import type { FastifyRequest } from 'fastify';
import { parseJsonBody } from './json-body.parser.js';

const request = { headers: { 'content-type': 'application/json' } } as FastifyRequest;
const parse = (text: string) => parseJsonBody(request, Buffer.from(text, 'utf8'));

describe('parseJsonBody', () => {
  it('parses an ordinary body', () => {
    expect(parse('{"model":"m","messages":[{"role":"user","content":"hi"}]}')).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it.each([
    '{"model":"x","__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    // The same key spelled with escapes, which JSON.parse decodes.
    '{"model":"x","\\u005f_proto__":{"admin":true}}',
    '{"constructor":{"\\u0070rototype":{"admin":true}}}',
  ])('refuses a prototype key in %s', (text) => {
    expect(() => parse(text)).toThrow(/is not allowed/);
  });
});
