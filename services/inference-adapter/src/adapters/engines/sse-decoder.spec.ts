import { readSseEvents, SseDecoder, type SseEvent } from './sse-decoder.js';

function decodeInPieces(text: string, cut: (text: string) => string[]): SseEvent[] {
  const decoder = new SseDecoder();
  const events = cut(text).flatMap((piece) => decoder.push(piece));
  return [...events, ...decoder.end()];
}

const everyChar = (text: string) => [...text];
const whole = (text: string) => [text];

function chatStream(deltas: readonly string[], lineEnd = '\n'): string {
  const events = deltas.map(
    (text) =>
      `data: ${JSON.stringify({ choices: [{ delta: { content: text } }] })}${lineEnd}${lineEnd}`,
  );
  return `${events.join('')}data: [DONE]${lineEnd}${lineEnd}`;
}

async function* bytesOf(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

describe('SseDecoder', () => {
  it('decodes events whether the text arrives whole or one character at a time', () => {
    const text = chatStream(['Hel', 'lo', ' world']);
    const expected = decodeInPieces(text, whole);
    expect(expected.map((e) => e.data)).toHaveLength(4);
    expect(expected.at(-1)?.data).toBe('[DONE]');
    expect(decodeInPieces(text, everyChar)).toEqual(expected);
  });

  it('accepts CRLF and CR line ends, including a CRLF split across two chunks', () => {
    for (const lineEnd of ['\r\n', '\r']) {
      const text = chatStream(['a', 'b'], lineEnd);
      expect(decodeInPieces(text, everyChar).map((e) => e.data)).toEqual(
        decodeInPieces(chatStream(['a', 'b']), whole).map((e) => e.data),
      );
    }
    const decoder = new SseDecoder();
    expect(decoder.push('data: x\r')).toEqual([]);
    expect(decoder.push('\n\r\n').map((e) => e.data)).toEqual(['x']);
  });

  it('joins multi-line data with newlines and keeps the event type and id', () => {
    const events = decodeInPieces(
      'event: error\nid: 7\ndata: first\ndata:second\ndata:  third\n\n',
      whole,
    );
    expect(events).toEqual([{ event: 'error', id: '7', data: 'first\nsecond\n third' }]);
  });

  it('skips comments, keep-alives and events without data', () => {
    const events = decodeInPieces(': ping\n\nevent: nothing\n\n:\ndata: real\n\n', whole);
    expect(events.map((e) => e.data)).toEqual(['real']);
  });

  it('dispatches a last event the server closed without a blank line, marked unterminated', () => {
    const events = decodeInPieces('data: one\n\ndata: [DONE]', whole);
    expect(events).toEqual([
      { event: 'message', id: undefined, data: 'one' },
      { event: 'message', id: undefined, data: '[DONE]', unterminated: true },
    ]);
  });

  it('strips a leading byte-order mark', () => {
    expect(decodeInPieces('\uFEFFdata: x\n\n', whole).map((e) => e.data)).toEqual(['x']);
  });

  it('decodes UTF-8 characters split across network reads', async () => {
    const bytes = new TextEncoder().encode('data: héllo 🌊\n\n');
    const pieces = [...bytes].map((b) => Uint8Array.of(b));
    const events: SseEvent[] = [];
    for await (const event of readSseEvents(bytesOf(pieces))) events.push(event);
    expect(events.map((e) => e.data)).toEqual(['héllo 🌊']);
  });
});
