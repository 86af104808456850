import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 that answers like an OpenAI-compatible engine from a script:
 * the adapter's HTTP driver talks to it over real sockets, so chunking, resets and stalls are real.
 */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

export type EngineReply = (
  request: RecordedRequest,
  response: ServerResponse,
) => void | Promise<void>;

export interface ScriptedEngineServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests whose client went away before the reply ended. */
  readonly closedEarly: () => number;
  reply: EngineReply;
  close(): Promise<void>;
}

export async function startScriptedEngineServer(reply: EngineReply): Promise<ScriptedEngineServer> {
  const requests: RecordedRequest[] = [];
  let closedEarly = 0;
  const state = { reply };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      requests.push(recorded);
      res.on('close', () => {
        if (!res.writableEnded) closedEarly++;
      });
      void state.reply(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    closedEarly: () => closedEarly,
    get reply() {
      return state.reply;
    },
    set reply(next: EngineReply) {
      state.reply = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sseHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

export function chunkEvent(fields: Record<string, unknown>): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'm', ...fields })}\n\n`;
}

export function deltaEvent(text: string, finishReason: string | null = null): string {
  return chunkEvent({
    choices: [{ index: 0, delta: { content: text }, finish_reason: finishReason }],
  });
}

export function usageEvent(prompt: number, completion: number): string {
  return chunkEvent({
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
  });
}

/** A whole, well-formed stream for `deltas`, as one string. */
export function completeStream(deltas: readonly string[]): string {
  return `${deltas.map((d, i) => deltaEvent(d, i === deltas.length - 1 ? 'stop' : null)).join('')}${usageEvent(7, deltas.length)}data: [DONE]\n\n`;
}
