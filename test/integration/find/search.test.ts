/**
 * `GET /v1/conversations?q=…` on the local stack: the caller's conversations with every word, newest first, with
 * plain-text snippets and highlight offsets; renames and deletions followed; another user's never found.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { callApi, machineToken } from '../setup/context';

/** A word no other test uses (letters and digits: one search word). */
const word = () => `w${randomUUID().replaceAll('-', '').slice(0, 14)}`;
const [shared, onlyFirst, titleWord, markup, other] = [word(), word(), word(), word(), word()];

let tokenA: string;
let tokenB: string;
let first: string;
let second: string;

interface Hit {
  id: string;
  title: string;
  snippet: { text: string; highlights: { start: number; end: number }[]; source: string };
}

async function ask(token: string, content: string, conversationId?: string): Promise<string> {
  const response = await callApi(token, 'POST', '/chat/completions', {
    model: 'chatstack-local',
    messages: [{ role: 'user', content }],
    max_tokens: 4,
    ...(conversationId ? { conversation_id: conversationId } : {}),
  });
  expect(response.status).toBe(200);
  return response.json().conversation_id;
}

async function search(token: string, q: string): Promise<Hit[]> {
  const response = await callApi(token, 'GET', `/conversations?q=${encodeURIComponent(q)}`);
  expect(response.status).toBe(200);
  return response.json().data;
}

beforeAll(async () => {
  [tokenA, tokenB] = await Promise.all([machineToken('a'), machineToken('b')]);
  first = await ask(tokenA, `Planning notes: ${shared} and ${onlyFirst} for the launch.`);
  second = await ask(tokenA, `More about ${shared}, <img src=x onerror=alert(1)> ${markup}`);
  await ask(tokenB, `Private to b: ${other}`);
});

describe('searching conversations', () => {
  it('finds every conversation with the word, newest first, highlighting it in the snippet', async () => {
    const hits = await search(tokenA, shared);
    expect(hits.map((hit) => hit.id)).toEqual([second, first]);
    for (const hit of hits) {
      expect(hit.snippet.source).toBe('message');
      expect(hit.snippet.highlights.map(({ start, end }) => hit.snippet.text.slice(start, end))).toEqual([
        shared,
      ]);
    }
  });

  it('puts a conversation first again when it gets a new turn', async () => {
    await ask(tokenA, `Back to ${onlyFirst}`, first);
    expect((await search(tokenA, shared)).map((hit) => hit.id)).toEqual([first, second]);
  });

  it('needs every word, and matches the last one as it is being typed', async () => {
    expect((await search(tokenA, `${shared} ${onlyFirst}`)).map((hit) => hit.id)).toEqual([first]);
    expect((await search(tokenA, `${onlyFirst.slice(0, 9)}`)).map((hit) => hit.id)).toEqual([first]);
    expect(await search(tokenA, `${onlyFirst.slice(0, 9)} `)).toEqual([]);
  });

  it('returns markup in a message as text, never as HTML to render', async () => {
    const [hit] = await search(tokenA, markup);
    expect(hit?.snippet.text).toContain('<img src=x onerror=alert(1)>');
    expect(hit?.snippet.highlights.map(({ start, end }) => hit.snippet.text.slice(start, end))).toEqual([
      markup,
    ]);
  });

  it('follows a rename: the new title is found, the old title no longer', async () => {
    const renamed = await callApi(tokenA, 'PATCH', `/conversations/${second}`, {
      title: `Budget ${titleWord}`,
    });
    expect(renamed.status).toBe(200);
    const [hit] = await search(tokenA, titleWord);
    expect(hit).toMatchObject({ id: second, title: `Budget ${titleWord}`, snippet: { source: 'title' } });
    await callApi(tokenA, 'PATCH', `/conversations/${second}`, { title: 'Something else' });
    expect(await search(tokenA, titleWord)).toEqual([]);
  });

  it('never finds another user’s conversations, in either direction', async () => {
    expect(await search(tokenB, shared)).toEqual([]);
    expect(await search(tokenA, other)).toEqual([]);
    expect((await search(tokenB, other)).length).toBe(1);
  });

  it('forgets a deleted conversation', async () => {
    const doomed = await ask(tokenA, `Temporary ${shared}`);
    expect((await search(tokenA, shared)).map((hit) => hit.id)).toContain(doomed);
    expect((await callApi(tokenA, 'DELETE', `/conversations/${doomed}`)).status).toBe(200);
    expect((await search(tokenA, shared)).map((hit) => hit.id)).not.toContain(doomed);
  });

  it.each([
    ['no word', '?q=%20%3F', 'q'],
    ['a single letter', '?q=a', 'q'],
    ['a query over 200 characters', `?q=${'x'.repeat(201)}`, 'q'],
    ['a cursor with the query', `?q=${shared}&cursor=abc`, 'cursor'],
  ])('refuses %s with a 400 naming the field', async (_case, query, param) => {
    const response = await callApi(tokenA, 'GET', `/conversations${query}`);
    expect(response.status).toBe(400);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', param });
  });
});
