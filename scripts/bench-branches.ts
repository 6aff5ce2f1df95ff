/**
 * `npm run bench:branches` — what finding a branch costs in a long conversation, on the local DynamoDB (dynalite):
 * the table requests and time of the path to a message when it is among the newest messages (one query of the
 * newest 400, as a turn on the active branch reads them) and when it is older (walked on the messages' links, one
 * page of 200 at a time, then the path's newest 48 messages by key), and of finding an answer by id (re-attach,
 * stop). Conversations are one chain of questions and answers of ~300 characters each. Prints a Markdown table
 * for docs/BENCHMARKS.md with the machine's load.
 */
import { loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pathTo, withParents } from '../lambdas/conversations/branches';
import { branchPathTo, findMessage } from '../lambdas/conversations/message-index';
import { allMessages, type ConversationStore, recentMessages } from '../lambdas/conversations/store';
import { percentile } from './bench-support';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME, startEmulators } from './local/emulators';
import { freePorts } from './local/ports';
import { seedConversation } from './seed-conversation';

const SIZES = (process.env.BENCH_SIZES ?? '400,2000,10000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** As a turn reads them (`lambdas/chat/prepare.ts`). */
const RECENT = 400;
const PATH_LIMIT = 48;
const SUB = 'bench-user';

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

async function writeConversation(
  db: DynamoDBDocumentClient,
  size: number,
): Promise<{ id: string; ids: string[] }> {
  const id = `conv_bench${size}`;
  const text = 'lorem ipsum dolor sit amet '.repeat(11);
  const items = await seedConversation(db, LOCAL_TABLE_NAME, {
    sub: SUB,
    conversationId: id,
    count: size,
    contentOf: (sequence) => `${sequence} ${text}`,
  });
  return { id, ids: items.map((item) => item.messageId) };
}

/** Runs `read` RUNS times on a store that counts its requests: p50 ms and requests per read. */
async function measure(db: DynamoDBDocumentClient, read: (store: ConversationStore) => Promise<unknown>) {
  let requests = 0;
  const counting = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        requests++;
        return target.send(command);
      };
    },
  });
  const store: ConversationStore = { db: counting, tableName: LOCAL_TABLE_NAME, retentionDays: 0 };
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    await read(store);
    times.push(performance.now() - started);
  }
  return { p50: percentile(times, 50), requests: requests / RUNS };
}

async function main(): Promise<void> {
  const loadBefore = load();
  const [dynamodbPort = 0, sqsPort = 0, kinesisPort = 0] = await freePorts(3);
  const emulators = await startEmulators({ host: '127.0.0.1', dynamodbPort, sqsPort, kinesisPort });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: emulators.dynamodbUrl,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  const rows: string[] = [];
  try {
    for (const size of SIZES) {
      const { id, ids } = await writeConversation(db, size);
      const newest = ids.at(-1) ?? '';
      const cases: [string, (store: ConversationStore) => Promise<unknown>][] = [
        [
          'path to the newest message (newest 400 in one query)',
          async (store) => pathTo(withParents(await recentMessages(store, SUB, id, RECENT)), newest),
        ],
        [
          'path to the middle message (links)',
          (store) => branchPathTo(store, SUB, id, ids[Math.floor(size / 2)] ?? '', PATH_LIMIT),
        ],
        [
          'path to the first answer (links)',
          (store) => branchPathTo(store, SUB, id, ids[1] ?? '', PATH_LIMIT),
        ],
        ['the newest answer by id (re-attach)', (store) => findMessage(store, SUB, id, newest)],
        [
          'the newest answer by id, reading every message (as before)',
          async (store) =>
            (await allMessages(store, SUB, id)).find((message) => message.messageId === newest),
        ],
      ];
      for (const [name, read] of cases) {
        const result = await measure(db, read);
        rows.push(`| ${size} | ${name} | ${result.requests} | ${result.p50.toFixed(0)} |`);
      }
    }
  } finally {
    db.destroy();
    await emulators.close();
  }
  console.log(`${RUNS} reads per row, dynalite in process, conversations of one chain\n`);
  console.log('| messages | read | table requests | p50 ms |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(`\nload before: ${loadBefore}; after: ${load()}`);
}

await main();
