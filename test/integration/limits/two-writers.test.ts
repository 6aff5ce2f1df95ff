/**
 * Two independent writers on one conversation and one quota: the chat and conversations handlers as two regions
 * load them (their own module instances, their own `AWS_REGION`), over the local stack's one table and the real
 * inference server. Each region writes its messages under its own sort keys and counts tokens on its own counter
 * item, so interleaved turns lose no message and the daily token budget holds over both regions together.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { setQuotaOverride } from '../../../lambdas/admin/quota-override';
import { keys } from '../../../lambdas/contracts/keys';
import { loadLocalConfig } from '../../../scripts/local/config';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { handlerEnvironment } from '../../../scripts/local/handler-env';
import { installRuntime, invokeStreaming } from '../../unit/chat/harness';
import { stack } from '../setup/context';
import { SHARED_CLIENT_LIMITS } from '../setup/global';
import { type ApiHandler, apiEvent, itemsWithPrefix, lambdaContext } from './harness';

const REGIONS = ['us-east-1', 'eu-west-1'] as const;
type Region = (typeof REGIONS)[number];
interface RegionHandlers {
  readonly chat: unknown;
  readonly conversations: ApiHandler;
}
const handlers = new Map<Region, RegionHandlers>();
let db: DynamoDBDocumentClient;

/** The handlers as a function in `region` loads them: module instances of their own, configured for `region`. */
async function handlersIn(region: Region): Promise<RegionHandlers> {
  vi.resetModules();
  Object.assign(process.env, {
    ...handlerEnvironment(
      {
        config: loadLocalConfig({}),
        urls: stack(),
        webEnabled: false,
        modelPath: '',
        modelName: 'chatstack-local',
      },
      'chatstack-api',
    ),
    ...SHARED_CLIENT_LIMITS,
    AWS_REGION: region,
    TABLE_REGIONS: REGIONS.join(','),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  installRuntime();
  const chat = ((await import('../../../lambdas/chat/handler')) as { handler: unknown }).handler;
  const conversations = (
    (await import('../../../lambdas/conversations/handler')) as unknown as { handler: ApiHandler }
  ).handler;
  return { chat, conversations };
}

beforeAll(async () => {
  for (const region of REGIONS) handlers.set(region, await handlersIn(region));
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
});

function handlersOf(region: Region): RegionHandlers {
  const found = handlers.get(region);
  if (!found) throw new Error(`no handlers for ${region}`);
  return found;
}

interface Completion {
  readonly conversation_id: string;
  readonly choices: { readonly message: { readonly content: string } }[];
  readonly usage: { readonly total_tokens: number };
}

/** One non-streamed turn in `region`: its status and, when answered, the completion. */
async function turn(region: Region, sub: string, question: string, conversationId?: string) {
  const response = await invokeStreaming(
    handlersOf(region).chat,
    apiEvent(sub, 'POST', '/v1/chat/completions', {
      model: 'chatstack-local',
      temperature: 0,
      max_tokens: 6,
      messages: [{ role: 'user', content: question }],
      ...(conversationId ? { conversation_id: conversationId } : {}),
    }),
  );
  return {
    status: response.statusCode,
    completion: response.statusCode === 200 ? (JSON.parse(response.body) as Completion) : undefined,
    body: response.body,
  };
}

const itemsOf = (sub: string, prefix: string) => itemsWithPrefix(db, sub, prefix);

describe('two regions writing one conversation', () => {
  it('keep every question and answer of interleaved turns, each answer after its question', async () => {
    const sub = `writers-${randomUUID()}`;
    const first = await turn('us-east-1', sub, 'question 0');
    const conversationId = first.completion?.conversation_id;
    if (!conversationId) throw new Error(`the first turn failed: ${first.status} ${first.body}`);

    // Six more turns at once, alternating regions: they race for the conversation's next sequence numbers.
    const turns = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        turn(REGIONS[index % 2] as Region, sub, `question ${index + 1}`, conversationId),
      ),
    );
    expect(turns.map((answered) => answered.status)).toEqual([200, 200, 200, 200, 200, 200]);

    const read = await handlersOf('eu-west-1').conversations(
      apiEvent(sub, 'GET', `/v1/conversations/${conversationId}`),
      lambdaContext,
    );
    const messages = (
      JSON.parse(read.body) as {
        messages: { id: string; parent_id: string | null; role: string; content: string; status: string }[];
      }
    ).messages;
    const questions = messages.filter((message) => message.role === 'user');
    const answers = messages.filter((message) => message.role === 'assistant');
    expect(questions.map((question) => question.content).sort()).toEqual(
      Array.from({ length: 7 }, (_, index) => `question ${index}`),
    );
    expect(answers).toHaveLength(7);
    expect(answers.every((answer) => answer.status === 'complete')).toBe(true);
    const questionIds = new Set(questions.map((question) => question.id));
    expect(answers.every((answer) => answer.parent_id !== null && questionIds.has(answer.parent_id))).toBe(
      true,
    );
    expect(new Set(answers.map((answer) => answer.parent_id)).size).toBe(7);
    const stored = await itemsOf(sub, keys.messagePrefix(conversationId));
    expect(stored.map((item) => String(item.sk).split('#').at(-1)).sort()).toEqual(
      [...Array(8).fill('us-east-1'), ...Array(6).fill('eu-west-1')].sort(),
    );
  });

  it("hold one user's daily tokens once over both regions", async () => {
    const sub = `budget-${randomUUID()}`;
    const budget = 600;
    // An administrator's limit for this user (the shared test clients' limits are lifted for the other tests).
    await setQuotaOverride(
      { db, tableName: LOCAL_TABLE_NAME },
      sub,
      { tokens_per_day: budget },
      'test',
      new Date(),
    );

    const outcomes: { region: Region; status: number; tokens: number }[] = [];
    // Alternating regions until each has been refused once; bounded by what the budget can pay for.
    for (
      let index = 0;
      index < 40 && outcomes.filter((outcome) => outcome.status === 429).length < 2;
      index++
    ) {
      const region = REGIONS[index % 2] as Region;
      const answered = await turn(region, sub, 'Hello');
      outcomes.push({
        region,
        status: answered.status,
        tokens: answered.completion?.usage.total_tokens ?? 0,
      });
    }

    const admitted = outcomes.filter((outcome) => outcome.status === 200);
    const refusedAt = outcomes.findIndex((outcome) => outcome.status === 429);
    expect(new Set(admitted.map((outcome) => outcome.region))).toEqual(new Set(REGIONS));
    // Once one region refuses, the other does too: the budget is spent over both, not per region.
    expect(outcomes.slice(refusedAt).map((outcome) => outcome.status)).toEqual([429, 429]);
    const counters = await itemsOf(sub, 'QUOTA#TPD#');
    const counted = counters.reduce((total, item) => total + Number(item.tokens), 0);
    expect(counted).toBe(admitted.reduce((total, outcome) => total + outcome.tokens, 0));
    // Every admitted turn found budget left over both regions together (the last one may use more than was
    // left: it reserves the remainder and is charged what it used); a budget per region would admit twice as many.
    expect(counted - (admitted.at(-1)?.tokens ?? 0)).toBeLessThan(budget);
    expect(counters.map((item) => String(item.sk).split('@')[1]).sort()).toEqual([...REGIONS].sort());
  });
});
