import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake model answers one request. */
export type FakeBehaviour =
  | {
      kind: 'answer';
      tokens: string[];
      format?: 'sse' | 'jsonl';
      finishReason?: string;
      splitBytes?: boolean;
    }
  | { kind: 'refuse'; status: number; message?: string }
  /** Accepts the request and never answers (until the caller gives up). */
  | { kind: 'hang' }
  /** Sends some tokens, then cuts the connection. */
  | { kind: 'break'; tokens: string[] }
  /** Sends some tokens, then waits for a signal before finishing (to observe disconnects). */
  | { kind: 'hold'; tokens: string[]; release: Promise<void> }
  /** Streams these chunk objects as SSE, then `[DONE]` (tool calls, reasoning, logprobs as an engine sends them). */
  | { kind: 'chunks'; chunks: object[] };

export interface FakeModel {
  readonly url: string;
  /** Bodies received on `/invocations`, in order. */
  readonly requests: Record<string, unknown>[];
  /** Requests whose connection the caller closed before the answer ended. */
  readonly cancelled: number;
  close(): Promise<void>;
}

function chunk(content: string | undefined, finishReason: string | null, usage?: object) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'fake',
    choices: usage
      ? []
      : [
          {
            index: 0,
            delta: content === undefined ? { role: 'assistant' } : { content },
            finish_reason: finishReason,
          },
        ],
    usage: usage ?? null,
  };
}

function writeLine(response: ServerResponse, format: 'sse' | 'jsonl', value: unknown, splitBytes: boolean) {
  const line = format === 'sse' ? `data: ${JSON.stringify(value)}\n\n` : `${JSON.stringify(value)}\n`;
  if (!splitBytes) {
    response.write(line);
    return;
  }
  // One byte per write: multi-byte characters and lines get cut, as SageMaker's payload parts may do.
  for (const byte of Buffer.from(line, 'utf8')) response.write(Buffer.from([byte]));
}

async function bodyOf(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const part of request) chunks.push(part as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

/** A small OpenAI-compatible `/invocations` server whose behaviour each test chooses per request. */
export async function startFakeModel(
  behaviour: (body: Record<string, unknown>, index: number) => FakeBehaviour,
): Promise<FakeModel> {
  const requests: Record<string, unknown>[] = [];
  const state = { cancelled: 0 };
  const server = createServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request);
      const index = requests.push(body) - 1;
      const plan = behaviour(body, index);
      let ended = false;
      response.on('close', () => {
        if (!ended) state.cancelled++;
      });
      const finish = () => {
        ended = true;
        response.end();
      };
      if (plan.kind === 'refuse') {
        ended = true;
        response.writeHead(plan.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: plan.message ?? 'refused' } }));
        return;
      }
      if (plan.kind === 'hang') return;
      if (plan.kind === 'chunks') {
        ended = true;
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const one of plan.chunks) response.write(`data: ${JSON.stringify(one)}\n\n`);
        response.end('data: [DONE]\n\n');
        return;
      }
      const stream = body.stream === true;
      const tokens = plan.tokens;
      if (!stream) {
        const text = tokens.join('');
        ended = true;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            created: 1,
            model: 'fake',
            choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 7, completion_tokens: tokens.length, total_tokens: 7 + tokens.length },
          }),
        );
        return;
      }
      const format = plan.kind === 'answer' ? (plan.format ?? 'sse') : 'sse';
      const split = plan.kind === 'answer' && plan.splitBytes === true;
      response.writeHead(200, {
        'content-type': format === 'sse' ? 'text/event-stream' : 'application/jsonlines',
      });
      writeLine(response, format, chunk(undefined, null), split);
      for (const token of tokens) writeLine(response, format, chunk(token, null), split);
      if (plan.kind === 'break') {
        // Once the tokens are on the wire, cut the connection without ending the chunked body.
        response.write('', () => setTimeout(() => response.socket?.destroy(), 20));
        return;
      }
      if (plan.kind === 'hold') await plan.release;
      if (response.destroyed) return;
      writeLine(
        response,
        format,
        chunk('', plan.kind === 'answer' ? (plan.finishReason ?? 'stop') : 'stop'),
        split,
      );
      const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
      if (streamOptions?.include_usage) {
        writeLine(
          response,
          format,
          chunk(undefined, null, {
            prompt_tokens: 7,
            completion_tokens: tokens.length,
            total_tokens: 7 + tokens.length,
          }),
          split,
        );
      }
      if (format === 'sse') response.write('data: [DONE]\n\n');
      finish();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get cancelled() {
      return state.cancelled;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
