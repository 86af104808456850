import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { EngineAddress } from './engine-address.js';

/**
 * The engine's HTTP transport: node:http on a keep-alive agent, over TCP or a Unix domain socket.
 * `fetch` (undici behind the WHATWG API) cost about a quarter of the adapter's CPU per turn — web
 * streams, per-request header validation, an iterable body writer — where a turn needs one small
 * POST and a byte stream.
 */
export class EngineHttp {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  /** Set for an engine on a Unix domain socket: every request connects there. */
  private readonly socketPath: string | undefined;

  constructor(address: EngineAddress) {
    const https = address.transport === 'tcp' && address.baseUrl.startsWith('https:');
    // LIFO keeps the few busiest connections warm; idle ones expire by the server's keep-alive hint.
    const options = { keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' as const };
    this.agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    this.send = https ? httpsRequest : httpRequest;
    this.socketPath = address.transport === 'unix' ? address.socketPath : undefined;
  }

  /**
   * Sends one request and resolves with the response head; the body is the caller's to read or
   * drop. Aborting `signal` destroys the request and its response.
   */
  request(
    url: URL,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    return this.attempt(url, method, headers, body, signal, true);
  }

  /** Frees the kept-alive connections (shutdown, tests). */
  close(): void {
    this.agent.destroy();
  }

  private attempt(
    url: URL,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
    mayRetry: boolean,
  ): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(signal));
        return;
      }
      const outgoing =
        body === undefined
          ? headers
          : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
      const req = this.send(
        url,
        this.socketPath === undefined
          ? { method, headers: outgoing, agent: this.agent }
          : { method, headers: outgoing, agent: this.agent, socketPath: this.socketPath },
        resolve,
      );
      // By hand rather than the `signal` option, whose stream bookkeeping costs more than the
      // rest of the request. Destroying the request also ends its response mid-body.
      const onAbort = () => req.destroy(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', onAbort));
      req.once('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the engine closed while it sat idle: the request never reached
        // the engine, so sending it once more on a fresh connection is safe (Node's advice).
        if (mayRetry && req.reusedSocket && error.code === 'ECONNRESET' && !signal.aborted) {
          this.attempt(url, method, headers, body, signal, false).then(resolve, reject);
          return;
        }
        reject(error);
      });
      req.end(body);
    });
  }
}

function abortError(signal: AbortSignal): Error {
  const error = new Error('the request was aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/** The whole body as text (error bodies, non-streaming completions, metrics). */
export async function readText(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response as AsyncIterable<string>) text += chunk;
  return text;
}

export function isOk(response: IncomingMessage): boolean {
  const status = response.statusCode ?? 0;
  return status >= 200 && status < 300;
}
