import { TextDecoder } from 'node:util';

/** One server-sent event. `data` joins multi-line data fields with "\n". */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
  /** Set on an event the stream ended inside of (no blank line after it): it may be cut short. */
  readonly unterminated?: true;
}

/**
 * An incremental text/event-stream decoder after the WHATWG rules: a chunk may end anywhere — in
 * the middle of a line, between CR and LF, inside a multi-byte character (the byte reader below
 * decodes UTF-8 in streaming mode) — and lines may end in LF, CRLF or CR. Comments (":") are
 * skipped and an event is dispatched on a blank line.
 */
export class SseDecoder {
  private pending = '';
  private data: string[] = [];
  private eventType = '';
  private lastId: string | undefined;
  private skipLeadingLf = false;
  private started = false;

  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length === 0) return [];
    if (this.skipLeadingLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLeadingLf = false;
    const events: SseEvent[] = [];
    let buffer = this.pending + text;
    let start = 0;
    for (;;) {
      const lineEnd = nextLineEnd(buffer, start);
      if (lineEnd === -1) break;
      const line = buffer.slice(start, lineEnd);
      if (buffer.charCodeAt(lineEnd) === 13 /* CR */) {
        if (lineEnd + 1 === buffer.length) {
          // A CR at the very end may be the first half of a CRLF split across two chunks.
          this.skipLeadingLf = true;
          start = lineEnd + 1;
        } else {
          start = buffer.charCodeAt(lineEnd + 1) === 10 ? lineEnd + 2 : lineEnd + 1;
        }
      } else {
        start = lineEnd + 1;
      }
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    buffer = buffer.slice(start);
    this.pending = buffer;
    return events;
  }

  /**
   * The stream ended. The standard drops an event that was never terminated by a blank line; we
   * dispatch it instead, because some servers close right after their last `data:` line and the
   * text in it is real output.
   */
  end(): SseEvent[] {
    // A non-empty last line only adds a field; it cannot dispatch on its own.
    if (this.pending.length > 0) this.processLine(this.pending);
    this.pending = '';
    const last = this.dispatch();
    return last ? [{ ...last, unterminated: true }] : [];
  }

  private processLine(line: string): SseEvent | undefined {
    if (line.length === 0) return this.dispatch();
    if (line.charCodeAt(0) === 58 /* : */) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields carry nothing an engine client needs.
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    if (this.data.length === 0) {
      this.eventType = '';
      return undefined;
    }
    const event: SseEvent = {
      event: this.eventType || 'message',
      data: this.data.join('\n'),
      id: this.lastId,
    };
    this.data = [];
    this.eventType = '';
    return event;
  }
}

function nextLineEnd(buffer: string, from: number): number {
  const lf = buffer.indexOf('\n', from);
  const cr = buffer.indexOf('\r', from);
  if (lf === -1) return cr;
  if (cr === -1) return lf;
  return Math.min(lf, cr);
}

/**
 * Decodes a body into server-sent events, one batch per network read: the events that arrived
 * together, so a consumer under load can forward them together. Text chunks (a Node stream with
 * an encoding set) are used as they are; byte chunks are decoded as streaming UTF-8.
 */
export async function* readSseBatches(
  body: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<SseEvent[]> {
  let decoder: TextDecoder | undefined;
  const sse = new SseDecoder();
  for await (const chunk of body) {
    const text =
      typeof chunk === 'string'
        ? chunk
        : (decoder ??= new TextDecoder('utf-8')).decode(chunk, { stream: true });
    const events = sse.push(text);
    if (events.length > 0) yield events;
  }
  const rest = decoder ? sse.push(decoder.decode()) : [];
  const last = [...rest, ...sse.end()];
  if (last.length > 0) yield last;
}

/** Decodes a body into server-sent events as they arrive. */
export async function* readSseEvents(
  body: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<SseEvent> {
  for await (const batch of readSseBatches(body)) yield* batch;
}
