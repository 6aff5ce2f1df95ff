import { describe, expect, it } from 'vitest';
import { readSse, type SseEvent, SseParser } from '../../../web/src/sse';

const STREAM =
  ': keepalive\n\n' +
  'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n' +
  'data: {"choices":[{"delta":{"content":"Hé"}}]}\r\n\r\n' +
  'event: note\ndata: line one\ndata: line two\n\n' +
  'data: [DONE]\n\n';

function parseInPieces(text: string, cut: (index: number) => boolean): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i === text.length || cut(i)) {
      events.push(...parser.push(text.slice(start, i)));
      start = i;
    }
  }
  return events;
}

describe('SseParser', () => {
  it('yields each data event and skips comment lines', () => {
    const events = new SseParser().push(STREAM);

    expect(events.map((event) => event.data)).toEqual([
      '{"choices":[{"delta":{"role":"assistant"}}]}',
      '{"choices":[{"delta":{"content":"Hé"}}]}',
      'line one\nline two',
      '[DONE]',
    ]);
    expect(events[2]?.event).toBe('note');
  });

  it('gives the same events whatever the chunk boundaries, including inside a CRLF', () => {
    const whole = new SseParser().push(STREAM);

    for (const size of [1, 2, 3, 7, 13]) {
      expect(parseInPieces(STREAM, (i) => i % size === 0)).toEqual(whole);
    }
    const crlf = STREAM.indexOf('\r\n') + 1;
    expect(parseInPieces(STREAM, (i) => i === crlf)).toEqual(whole);
  });

  it('discards an event whose closing blank line never arrived', () => {
    const parser = new SseParser();

    expect(parser.push('data: partial')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split across network chunks', async () => {
    const bytes = new TextEncoder().encode('data: {"text":"naïve 🚀"}\n\ndata: [DONE]\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });

    const data: string[] = [];
    for await (const event of readSse(body)) data.push(event.data);

    expect(data).toEqual(['{"text":"naïve 🚀"}', '[DONE]']);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: tick\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });

    for await (const event of readSse(body)) {
      expect(event.data).toBe('tick');
      break;
    }

    expect(cancelled).toBe(true);
  });
});
