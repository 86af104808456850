import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/** Server-sent events on a raw response, with back-pressure and disconnect detection. */
export class SseWriter {
  private closedByPeer = false;
  private corked = false;

  constructor(private readonly response: ServerResponse) {
    response.once('close', () => {
      if (!response.writableEnded) this.closedByPeer = true;
    });
  }

  /** True once the client went away; stop producing. */
  get gone(): boolean {
    return this.closedByPeer || this.response.destroyed;
  }

  open(headers: Readonly<Record<string, string>>): void {
    this.response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Proxies (nginx) must pass each event through at once.
      'x-accel-buffering': 'no',
    });
  }

  async data(payload: unknown): Promise<void> {
    await this.write(
      `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`,
    );
  }

  end(): void {
    if (!this.response.writableEnded) this.response.end();
  }

  onClose(listener: () => void): void {
    this.response.once('close', listener);
  }

  private async write(text: string): Promise<void> {
    if (this.gone) return;
    if (!this.response.write(text))
      await Promise.race([once(this.response, 'drain'), once(this.response, 'close')]);
  }
}
