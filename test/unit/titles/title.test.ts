/** Titles the model writes: cleaned, moderated, and never over a user's rename (dynalite, the model faked). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConversationStore,
  createConversation,
  getConversation,
  newMessageId,
  putMessage,
  updateConversation,
} from '../../../lambdas/conversations/store';
import type { InferenceRequest } from '../../../lambdas/inference';
import { createModeration, defaultModerationConfig } from '../../../lambdas/moderation';
import { searchConversations } from '../../../lambdas/search/search';
import { cleanTitle, TITLE_MAX_CHARS, TITLE_MAX_TOKENS, writeTitle } from '../../../lambdas/titles/title';
import { startTable, TABLE_NAME, type TestTable } from '../chat/harness';

let table: TestTable;
let store: ConversationStore;
const moderation = createModeration({
  config: { ...defaultModerationConfig(), blocklist: ['forbiddenword'] },
});

beforeAll(async () => {
  table = await startTable();
  store = { db: table.db, tableName: TABLE_NAME, retentionDays: 0 };
});
afterAll(async () => {
  await table.close();
});

async function answeredConversation(sub: string): Promise<string> {
  const { conversationId } = await createConversation(store, sub, {
    title: 'How do I bake sourdough bread at…',
  });
  for (const [sequence, role, content] of [
    [0, 'user', 'How do I bake sourdough bread at home?'],
    [1, 'assistant', 'Feed a starter, mix, proof overnight, bake hot.'],
  ] as const) {
    await putMessage(store, sub, {
      messageId: newMessageId(),
      conversationId,
      sequence,
      role,
      content,
      createdAt: new Date().toISOString(),
      status: 'complete',
    });
  }
  return conversationId;
}

function modelSaying(title: string) {
  const requests: InferenceRequest[] = [];
  const complete = async (request: InferenceRequest) => {
    requests.push(request);
    return JSON.stringify({ title });
  };
  return { requests, deps: { store, moderation, complete } };
}

const message = (sub: string, conversationId: string) => ({
  kind: 'title' as const,
  sub,
  conversationId,
  enqueuedAt: new Date().toISOString(),
});

describe('a written title', () => {
  it('is one short line without quotes', () => {
    expect(cleanTitle('  "Baking\nSourdough"  at home.  ')).toBe('Baking Sourdough at home');
    expect(cleanTitle('Title: Sourdough')).toBe('Sourdough');
    const long = cleanTitle('word '.repeat(40));
    expect(long.length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(long.endsWith(' ')).toBe(false);
  });

  it('replaces the first question, asked for with bounded tokens, and is searchable', async () => {
    const sub = `user-${crypto.randomUUID()}`;
    const id = await answeredConversation(sub);
    const model = modelSaying('“Home sourdough baking”');
    expect(await writeTitle(model.deps, message(sub, id))).toBe('written');
    expect((await getConversation(store, sub, id))?.title).toBe('Home sourdough baking');
    expect(model.requests[0]?.max_tokens).toBe(TITLE_MAX_TOKENS);
    expect(JSON.stringify(model.requests[0]?.messages)).toContain('sourdough bread at home');
    expect((await searchConversations(store, sub, 'baking', 5)).hits[0]?.snippet.source).toBe('title');
  });

  it('never overwrites a user’s rename, even one made while the model was writing', async () => {
    const sub = `user-${crypto.randomUUID()}`;
    const id = await answeredConversation(sub);
    const model = modelSaying('Sourdough at home');
    const racing = {
      ...model.deps,
      complete: async (request: InferenceRequest) => {
        await updateConversation(store, sub, id, { title: 'My bread notes' });
        return model.deps.complete(request);
      },
    };
    expect(await writeTitle(racing, message(sub, id))).toBe('kept');
    expect((await getConversation(store, sub, id))?.title).toBe('My bread notes');
    // Redelivered later: the rename still stands and the model is not asked again.
    expect(await writeTitle(model.deps, message(sub, id))).toBe('kept');
    expect(model.requests).toHaveLength(1);
  });

  it('keeps the current title when the moderation blocks the written one', async () => {
    const sub = `user-${crypto.randomUUID()}`;
    const id = await answeredConversation(sub);
    expect(await writeTitle(modelSaying('A forbiddenword title').deps, message(sub, id))).toBe('blocked');
    expect((await getConversation(store, sub, id))?.title).toBe('How do I bake sourdough bread at…');
  });

  it('keeps the current title when the model wrote nothing usable', async () => {
    const sub = `user-${crypto.randomUUID()}`;
    const id = await answeredConversation(sub);
    expect(await writeTitle(modelSaying(' \n "" ').deps, message(sub, id))).toBe('empty');
    expect((await getConversation(store, sub, id))?.title).toBe('How do I bake sourdough bread at…');
  });
});
