/** Pins on the local stack: pinned conversations come first in the list, stay pinned through new turns, per user. */
import { beforeAll, describe, expect, it } from 'vitest';
import { callApi, machineToken } from '../setup/context';

let tokenA: string;
let tokenB: string;
let older: string;
let newer: string;

interface Listed {
  id: string;
  pinned: boolean;
}

async function ask(content: string, conversationId?: string): Promise<string> {
  const response = await callApi(tokenA, 'POST', '/chat/completions', {
    model: 'chatstack-local',
    messages: [{ role: 'user', content }],
    max_tokens: 4,
    ...(conversationId ? { conversation_id: conversationId } : {}),
  });
  expect(response.status).toBe(200);
  return response.json().conversation_id;
}

/** The caller's whole list, page by page (other test files add conversations of this user meanwhile). */
async function listAll(): Promise<Listed[]> {
  const all: Listed[] = [];
  let cursor: string | null = null;
  do {
    const page = await callApi(tokenA, 'GET', `/conversations?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    all.push(...page.json().data);
    cursor = page.json().next_cursor;
  } while (cursor);
  return all;
}

function expectPinnedFirst(list: readonly Listed[]) {
  const firstUnpinned = list.findIndex((item) => !item.pinned);
  if (firstUnpinned >= 0) expect(list.slice(firstUnpinned).some((item) => item.pinned)).toBe(false);
}

beforeAll(async () => {
  [tokenA, tokenB] = await Promise.all([machineToken('a'), machineToken('b')]);
  older = await ask('The older conversation');
  newer = await ask('The newer conversation');
});

describe('pinning a conversation', () => {
  it('puts it above newer ones in the list, through every page', async () => {
    const pinned = await callApi(tokenA, 'PATCH', `/conversations/${older}`, { pinned: true });
    expect(pinned.status).toBe(200);
    expect(pinned.json().pinned).toBe(true);
    const list = await listAll();
    expectPinnedFirst(list);
    const ids = list.map((item) => item.id);
    expect(ids.indexOf(older)).toBeLessThan(ids.indexOf(newer));
    expect((await callApi(tokenA, 'GET', `/conversations/${older}`)).json().pinned).toBe(true);
  });

  it('keeps it pinned when the conversation gets a new turn', async () => {
    await ask('Still pinned?', older);
    const list = await listAll();
    expectPinnedFirst(list);
    expect(list.find((item) => item.id === older)?.pinned).toBe(true);
  });

  it('is undone by unpinning: the list is newest first again', async () => {
    expect((await callApi(tokenA, 'PATCH', `/conversations/${older}`, { pinned: false })).status).toBe(200);
    await ask('Newest now', newer);
    const ids = (await listAll()).map((item) => item.id);
    expect(ids.indexOf(newer)).toBeLessThan(ids.indexOf(older));
  });

  it('is a 404 on another user’s conversation, which stays as it was', async () => {
    const response = await callApi(tokenB, 'PATCH', `/conversations/${older}`, { pinned: true });
    expect(response.status).toBe(404);
    expect((await callApi(tokenA, 'GET', `/conversations/${older}`)).json().pinned).toBe(false);
  });

  it('refuses a pin that is not a boolean, naming the field', async () => {
    const response = await callApi(tokenA, 'PATCH', `/conversations/${older}`, { pinned: 'yes' });
    expect(response.status).toBe(400);
    expect(response.json().error.param).toBe('pinned');
  });
});
