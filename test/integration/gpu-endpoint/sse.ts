/** Reading the server's SSE stream exactly as it is framed on the wire. */

export interface StreamedCompletion {
  readonly status: number;
  readonly contentType: string | null;
  /** Raw `data:` payloads in order, `[DONE]` included. */
  readonly events: string[];
  /** Parsed JSON events (everything but `[DONE]`). */
  readonly chunks: Record<string, unknown>[];
  /** Whether every event was a `data: …` line followed by a blank line. */
  readonly wellFramed: boolean;
  readonly text: string;
  /** Chunks whose delta carried content (each should be one token). */
  readonly contentChunks: number;
}

export interface ChatRequestBody {
  readonly [key: string]: unknown;
}

export async function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

/** Reads a streamed completion; `onEvent` sees each event as soon as it arrives. */
export async function readStream(
  response: Response,
  onEvent?: (data: string) => void,
): Promise<StreamedCompletion> {
  const events: string[] = [];
  let wellFramed = true;
  let buffer = '';
  const decoder = new TextDecoder();
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error('response has no body');
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!block.startsWith('data: ') || block.includes('\n')) wellFramed = false;
      const data = block.slice('data: '.length);
      events.push(data);
      onEvent?.(data);
      end = buffer.indexOf('\n\n');
    }
  }
  if (buffer !== '') wellFramed = false;
  const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e) as Record<string, unknown>);
  const text = chunks
    .flatMap((chunk) => (Array.isArray(chunk.choices) ? chunk.choices : []))
    .map((choice: { delta?: { content?: string } }) => choice.delta?.content ?? '')
    .join('');
  const contentChunks = chunks.filter((chunk) =>
    (Array.isArray(chunk.choices) ? chunk.choices : []).some(
      (choice: { delta?: { content?: string } }) => (choice.delta?.content ?? '') !== '',
    ),
  ).length;
  return {
    contentChunks,
    status: response.status,
    contentType: response.headers.get('content-type'),
    events,
    chunks,
    wellFramed,
    text,
  };
}

export function chatBody(overrides: ChatRequestBody = {}): ChatRequestBody {
  return {
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say something.' },
    ],
    ...overrides,
  };
}
