/** What the feedback and share-link tests share: a person with a conversation, and reads of the events stream. */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { expect } from 'vitest';
import type { AnalyticsEvent } from '../../../lambdas/contracts/events';
import { LOCAL_STREAMS } from '../../../scripts/local/async-resources';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../scripts/local/emulators';
import { personToken } from '../admin/harness';
import { until } from '../async/harness';
import { call } from '../auth/harness';
import { stack } from '../setup/context';

export interface Person {
  readonly login: string;
  readonly token: string;
}

/** A person of their own (a fresh dev login), so tests can erase and count without meeting anyone else's data. */
export async function newPerson(prefix: string): Promise<Person> {
  const login = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  return { login, token: await personToken(login) };
}

export interface StoredMessage {
  id: string;
  role: string;
  content: string;
  parent_id: string | null;
  feedback?: { rating: string; comment: string | null; updated_at: string };
}

/** Asks one question (continuing `conversationId` when given) and returns the conversation's id. */
export async function ask(person: Person, content: string, conversationId?: string): Promise<string> {
  const answer = await call(person.token, 'POST', '/chat/completions', {
    model: 'chatstack-local',
    messages: [{ role: 'user', content }],
    max_tokens: 6,
    ...(conversationId ? { conversation_id: conversationId } : {}),
  });
  expect(answer.status, answer.text).toBe(200);
  return answer.json<{ conversation_id: string }>().conversation_id;
}

export async function messagesOf(person: Person, conversationId: string): Promise<StoredMessage[]> {
  const conversation = await call(person.token, 'GET', `/conversations/${conversationId}`);
  expect(conversation.status).toBe(200);
  return conversation.json<{ messages: StoredMessage[] }>().messages;
}

const kinesis = () =>
  new KinesisClient({
    region: LOCAL_REGION,
    endpoint: stack().kinesis,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: new NodeHttpHandler(),
  });

/**
 * Starts reading the events stream at its current end; `next(match)` waits for an event that satisfies `match`
 * among those put after the start.
 */
export async function watchEvents() {
  const client = kinesis();
  const StreamName = LOCAL_STREAMS.events.name;
  const shards = (await client.send(new ListShardsCommand({ StreamName }))).Shards ?? [];
  const iterators = await Promise.all(
    shards.map(
      async (shard) =>
        (
          await client.send(
            new GetShardIteratorCommand({ StreamName, ShardId: shard.ShardId, ShardIteratorType: 'LATEST' }),
          )
        ).ShardIterator,
    ),
  );
  const seen: AnalyticsEvent[] = [];
  return {
    async next(match: (event: AnalyticsEvent) => boolean): Promise<AnalyticsEvent> {
      let found: AnalyticsEvent | undefined;
      await until(async () => {
        for (const [index, iterator] of iterators.entries()) {
          if (!iterator) continue;
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
          iterators[index] = page.NextShardIterator;
          for (const record of page.Records ?? [])
            seen.push(JSON.parse(Buffer.from(record.Data ?? []).toString('utf8')) as AnalyticsEvent);
        }
        found = seen.find(match);
        return found !== undefined;
      }, 30_000);
      return found as AnalyticsEvent;
    },
  };
}
