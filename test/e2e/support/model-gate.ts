/**
 * A gate between the chat handlers and the local SageMaker runtime: every call passes through unchanged, except a
 * streamed answer the test asked to hold — it flows until the model has streamed a number of content tokens
 * (well past what the API's output moderation holds back, so the browser shows text), then waits for `release()`.
 * The answer is the real model's, from the real stack; only its pace is the test's, so "mid-answer" is an event
 * the test awaits rather than a race against the model's speed. A held answer whose caller goes away (a stop ends
 * the model call) is dropped upstream too.
 */
import { createServer, request, type Server } from 'node:http';

export interface HeldAnswer {
  /** Resolves once the held answer has streamed its first tokens and is waiting. */
  readonly reached: Promise<void>;
  /** Lets the rest of the answer through. */
  release(): void;
}

export interface ModelGate {
  /** The URL to give the handlers as their SageMaker runtime endpoint. */
  readonly url: string;
  /** Where calls go (the stack's SageMaker runtime); set once the stack is up. */
  forwardTo(url: string): void;
  /** Holds the next streamed answer after `tokens` content tokens. */
  holdNext(tokens: number): HeldAnswer;
  close(): Promise<void>;
}

const CONTENT_TOKEN = /"content":"[^"]/g;

export async function startModelGate(): Promise<ModelGate> {
  let target: URL | undefined;
  let next: { tokens: number; reached: () => void; released: Promise<void> } | undefined;
  const server: Server = createServer((incoming, outgoing) => {
    if (!target) {
      outgoing.writeHead(503).end();
      return;
    }
    const streamed = incoming.url?.endsWith('/invocations-response-stream') === true;
    const hold = streamed ? next : undefined;
    if (hold) next = undefined;
    const upstream = request(
      new URL(incoming.url ?? '/', target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!hold) {
          answer.pipe(outgoing);
          return;
        }
        let seen = 0;
        let held: Buffer[] | undefined;
        answer.on('data', (bytes: Buffer) => {
          if (held) {
            held.push(bytes);
            return;
          }
          outgoing.write(bytes);
          seen += bytes.toString('latin1').match(CONTENT_TOKEN)?.length ?? 0;
          if (seen >= hold.tokens) {
            held = [];
            hold.reached();
            void hold.released.then(() => {
              for (const part of held ?? []) outgoing.write(part);
              held = undefined;
              if (answer.readableEnded) outgoing.end();
            });
          }
        });
        answer.on('end', () => {
          if (!held) outgoing.end();
        });
      },
    );
    upstream.on('error', () => outgoing.destroy());
    // The caller went away (a stopped answer ends its model call): so does the call upstream.
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the gate has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    forwardTo: (url) => {
      target = new URL(url);
    },
    holdNext: (tokens) => {
      let reached = () => {};
      let release = () => {};
      const answer: HeldAnswer = {
        reached: new Promise<void>((resolve) => {
          reached = resolve;
        }),
        release: () => release(),
      };
      next = {
        tokens,
        reached: () => reached(),
        released: new Promise<void>((resolve) => {
          release = resolve;
        }),
      };
      return answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
