import { request } from 'node:http';

/** Where a local HTTP server listens: a TCP port, or a Unix domain socket. */
export type HttpTarget =
  { readonly host: string; readonly port: number } | { readonly socketPath: string };

export interface HttpReply {
  readonly status: number;
  readonly text: string;
}

/**
 * One HTTP request to a local server on a fresh connection, over TCP or a Unix domain socket
 * (`fetch` cannot reach a socket): GET, or POST with `body` as JSON. Resolves with the status and
 * the whole body as text; rejects on a connection error.
 */
export function httpRequest(target: HttpTarget, path: string, body?: unknown): Promise<HttpReply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...target,
        path,
        method: payload === undefined ? 'GET' : 'POST',
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
