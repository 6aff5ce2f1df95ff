/**
 * Titles written by the model after a conversation's first answer, by the jobs worker on the local stack (the
 * chat request only puts a message on the jobs queue): short, one line, and never over a user's rename.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { titleFrom } from '../../../lambdas/conversations/store';
import { TITLE_MAX_CHARS } from '../../../lambdas/titles/title';
import { callApi, machineToken } from '../setup/context';

let token: string;

async function firstTurn(content: string): Promise<string> {
  const response = await callApi(token, 'POST', '/chat/completions', {
    model: 'chatstack-local',
    messages: [{ role: 'user', content }],
    max_tokens: 8,
    temperature: 0,
  });
  expect(response.status).toBe(200);
  return response.json().conversation_id;
}

const titleOf = async (id: string): Promise<string> =>
  (await callApi(token, 'GET', `/conversations/${id}`)).json().title;

/** Waits for the worker to replace the first-question title (the queue is polled; the poll is bounded). */
async function writtenTitle(id: string, question: string): Promise<string> {
  await expect.poll(() => titleOf(id), { timeout: 45_000, interval: 250 }).not.toBe(titleFrom(question));
  return titleOf(id);
}

beforeAll(async () => {
  token = await machineToken('a');
});

describe('a conversation’s title', () => {
  it('is written by the model after the first answer: one short line, no quotes', async () => {
    const question = `How should I store sourdough starter over a long holiday? ${randomUUID()}`;
    const id = await firstTurn(question);
    const title = await writtenTitle(id, question);
    expect(title.length).toBeGreaterThan(0);
    expect(title.length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(title).not.toMatch(/[\n\r"“”]/);
    // The sidebar's list shows it too.
    const list = (await callApi(token, 'GET', '/conversations?limit=100')).json().data as {
      id: string;
      title: string;
    }[];
    expect(list.find((item) => item.id === id)?.title).toBe(title);
  });

  it('is not written over a rename made before the title job ran', async () => {
    const renamedQuestion = `Plan a week of vegetarian dinners ${randomUUID()}`;
    const renamed = await firstTurn(renamedQuestion);
    const rename = await callApi(token, 'PATCH', `/conversations/${renamed}`, { title: 'My dinner plan' });
    expect(rename.status).toBe(200);
    // A later conversation's title arriving means the queue got past the renamed one's request.
    const laterQuestion = `Compare two hiking routes ${randomUUID()}`;
    await writtenTitle(await firstTurn(laterQuestion), laterQuestion);
    expect(await titleOf(renamed)).toBe('My dinner plan');
  });

  it('is not asked for again on later turns: a rename after it stays', async () => {
    const question = `Explain compound interest simply ${randomUUID()}`;
    const id = await firstTurn(question);
    await writtenTitle(id, question);
    await callApi(token, 'PATCH', `/conversations/${id}`, { title: 'Interest' });
    await callApi(token, 'POST', '/chat/completions', {
      model: 'chatstack-local',
      messages: [{ role: 'user', content: 'And monthly?' }],
      conversation_id: id,
      max_tokens: 4,
    });
    const laterQuestion = `Name three rivers ${randomUUID()}`;
    await writtenTitle(await firstTurn(laterQuestion), laterQuestion);
    expect(await titleOf(id)).toBe('Interest');
  });
});
