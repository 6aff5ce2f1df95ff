/**
 * `npm run bench:search`: the cost of searching a user's history. Seeds one user with 1,000 conversations (three
 * turns each, ~60-word messages from a Zipf-distributed vocabulary) in an in-memory dynalite through the real
 * store and index modules, then runs each kind of query `ROUNDS` times and prints the read capacity units
 * DynamoDB reports (exact, per search) and latency percentiles, with the machine load. Options:
 * `--conversations N` (default 1000), `--rounds N` (default 40).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { TABLE } from '../lambdas/contracts/table';
import {
  type ConversationStore,
  createConversation,
  newMessageId,
  putMessage,
  updateConversation,
} from '../lambdas/conversations/store';
import { indexMessages } from '../lambdas/search/index-store';
import { searchConversations } from '../lambdas/search/search';
import { percentile } from './bench-support';
import { createTableInput, LOCAL_CREDENTIALS, LOCAL_REGION } from './local/emulators';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const CONVERSATIONS = option('conversations', 1000);
const ROUNDS = option('rounds', 40);
const TURNS = 3;
const WORDS_PER_MESSAGE = 60;
const TOPICS = 50;
const SUB = 'bench-user';

/** A seeded PRNG (mulberry32): the same history on every run. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const rand = random(17);
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vi', 'so', 'pe', 'da', 'gu', 'ri', 'zo', 'be', 'fa'];
const VOCABULARY = Array.from({ length: 20_000 }, (_, index) => {
  let word = '';
  for (let n = index + 1; n > 0; n = Math.floor(n / SYLLABLES.length))
    word += SYLLABLES[n % SYLLABLES.length];
  return word;
});
/** Zipf-like: word i is drawn with weight 1/(i+1). */
function zipfWord(): string {
  const index = Math.floor(Math.exp(rand() * Math.log(VOCABULARY.length)) - 1);
  return VOCABULARY[Math.min(VOCABULARY.length - 1, Math.max(0, index))] ?? 'ka';
}
function sentence(extra: readonly string[]): string {
  const words = Array.from({ length: WORDS_PER_MESSAGE }, zipfWord);
  for (const word of extra) words.splice(Math.floor(rand() * words.length), 0, word);
  return `${words.join(' ')}.`;
}

async function startTable() {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await raw.send(new CreateTableCommand(createTableInput(TABLE, 'bench-search')));
  const db = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const close = async () => {
    raw.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  return { store: { db, tableName: 'bench-search', retentionDays: 0 } satisfies ConversationStore, close };
}

/** One conversation: three turns, its topic word in the first question, its own rare word somewhere. */
async function seedConversation(store: ConversationStore, index: number): Promise<number> {
  const topic = `topic${index % TOPICS}`;
  const conversation = await createConversation(store, SUB, { title: `Conversation ${index}` });
  let written = 0;
  for (let turn = 0; turn < TURNS; turn++) {
    const question = sentence(turn === 0 ? [topic] : []);
    const answer = sentence(turn === TURNS - 1 ? [`rare${index}`] : []);
    for (const [offset, content] of [question, answer].entries()) {
      await putMessage(store, SUB, {
        messageId: newMessageId(),
        conversationId: conversation.conversationId,
        sequence: turn * 2 + offset,
        role: offset === 0 ? 'user' : 'assistant',
        content,
        createdAt: new Date().toISOString(),
        status: 'complete',
      });
    }
    written += await indexMessages(store, SUB, conversation.conversationId, [question, answer]);
  }
  // The newest conversations were touched last: the list's order is the seeding order.
  if (index % 100 === 0) await updateConversation(store, SUB, conversation.conversationId, { pinned: true });
  return written;
}

async function main() {
  const { store, close } = await startTable();
  try {
    const seedStart = performance.now();
    let wordItems = 0;
    for (let next = 0; next < CONVERSATIONS; next += 8) {
      const batch = Array.from({ length: Math.min(8, CONVERSATIONS - next) }, (_, offset) => next + offset);
      for (const count of await Promise.all(batch.map((index) => seedConversation(store, index))))
        wordItems += count;
    }
    const messages = CONVERSATIONS * TURNS * 2;
    console.log(
      `seeded ${CONVERSATIONS} conversations, ${messages} messages in ${((performance.now() - seedStart) / 1000).toFixed(1)} s: ` +
        `${wordItems} word items (${(wordItems / messages).toFixed(1)} per message, ${(wordItems / CONVERSATIONS).toFixed(0)} per conversation)`,
    );
    const common = VOCABULARY[0] ?? 'ka';
    const queries: readonly [string, string][] = [
      ['rare word (1 match)', `rare${Math.floor(CONVERSATIONS / 2)}`],
      [`topic word (${CONVERSATIONS / TOPICS} matches)`, 'topic7'],
      ['topic + common word', `topic7 ${common}`],
      ['common word (most conversations)', common],
      ['prefix being typed (3 letters)', (VOCABULARY[15] ?? 'lolo').slice(0, 3)],
      ['no match', 'nothingmatchesthis'],
    ];
    console.log(
      `\nsearches: ${ROUNDS} rounds each, limit 20; load ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
    console.log('query                                 matches  RCU/search   p50 ms   p95 ms   p99 ms');
    for (const [label, q] of queries) {
      const latencies: number[] = [];
      let units = 0;
      let matches = 0;
      // Interleaved warm-up: the first search of each kind is not counted.
      await searchConversations(store, SUB, q, 20);
      for (let round = 0; round < ROUNDS; round++) {
        const started = performance.now();
        const result = await searchConversations(store, SUB, q, 20);
        latencies.push(performance.now() - started);
        units = result.readUnits;
        matches = result.hits.length + (result.hasMore ? 1 : 0);
      }
      console.log(
        `${label.padEnd(38)}${String(matches >= 21 ? '20+' : matches).padStart(7)}${units.toFixed(1).padStart(12)}` +
          `${percentile(latencies, 50).toFixed(1).padStart(9)}${percentile(latencies, 95).toFixed(1).padStart(9)}${percentile(latencies, 99).toFixed(1).padStart(9)}`,
      );
    }
    console.log(
      `\nload after: ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await close();
  }
}

await main();
