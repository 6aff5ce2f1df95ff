/**
 * A slow, long-winded stand-in for the chat endpoint, for the scenarios that need an answer to stream for
 * seconds (watching it grow, pressing Stop). The local tiny model answers in a handful of characters, which the
 * API's output moderation releases in one piece, so its streams end before a person could press anything.
 * The page's chat request is redirected here (`route.continue({ url })`); it answers in the API's SSE format.
 */
import { createServer, type Server } from 'node:http';

export const SLOW_ANSWER =
  'The lighthouse keeper climbed the spiral stairs every evening at dusk. ' +
  'He trimmed the wick, polished the great lens, and watched the beam sweep across the water. ' +
  'Ships he would never meet passed safely in the dark. ' +
  'In the mornings he wrote in his log: wind, weather, and the names of the birds that rested on the rail. ' +
  'Years went by like this, and the sea never once looked the same twice.';

export interface SlowModel {
  readonly url: string;
  /** Streams that ended because the browser went away before the answer was complete. */
  readonly abandoned: number;
  close(): Promise<void>;
}

export async function startSlowModel(conversationId: string, intervalMs = 120): Promise<SlowModel> {
  let abandoned = 0;
  const words = SLOW_ANSWER.split(/(?<= )/);
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-slow',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'slow-model',
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      usage: null,
      conversation_id: conversationId,
    })}\n\n`;
  const server: Server = createServer((req, res) => {
    const origin = req.headers.origin ?? '*';
    const cors = {
      'access-control-allow-origin': origin,
      'access-control-allow-headers': 'authorization, content-type, idempotency-key',
      'access-control-expose-headers': 'x-conversation-id, x-request-id',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    req.resume();
    res.writeHead(200, {
      ...cors,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-conversation-id': conversationId,
    });
    res.write(chunk({ role: 'assistant', content: '' }, null));
    let next = 0;
    const timer = setInterval(() => {
      const word = words[next++];
      if (word !== undefined) {
        res.write(chunk({ content: word }, null));
        return;
      }
      clearInterval(timer);
      res.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
    }, intervalMs);
    res.on('close', () => {
      if (!res.writableFinished) abandoned++;
      clearInterval(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}/v1/chat/completions`,
    get abandoned() {
      return abandoned;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
