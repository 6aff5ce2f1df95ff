/**
 * Privacy: dev-client-b can neither see nor touch dev-client-a's conversations — every attempt is a 404, exactly
 * as for an id that does not exist — and neither user's export ever contains the other's data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { callApi, machineToken } from '../setup/context';

let tokenA: string;
let tokenB: string;
let conversationA: string;
const secretA = `a-secret-${crypto.randomUUID()}`;
const secretB = `b-secret-${crypto.randomUUID()}`;

const call = callApi;

beforeAll(async () => {
  [tokenA, tokenB] = await Promise.all([machineToken('a'), machineToken('b')]);
  const created = await call(tokenA, 'POST', '/chat/completions', {
    messages: [{ role: 'user', content: `Keep this: ${secretA}` }],
    max_tokens: 4,
  });
  expect(created.status).toBe(200);
  conversationA = created.json().conversation_id;
  const createdB = await call(tokenB, 'POST', '/chat/completions', {
    messages: [{ role: 'user', content: `Mine: ${secretB}` }],
    max_tokens: 4,
  });
  expect(createdB.status).toBe(200);
});

describe("dev-client-b and dev-client-a's conversation", () => {
  it('cannot read it', async () => {
    const response = await call(tokenB, 'GET', `/conversations/${conversationA}`);
    expect(response.status).toBe(404);
    expect(response.json().error.type).toBe('not_found_error');
    expect(response.text).not.toContain(secretA);
  });

  it('cannot rename it', async () => {
    expect((await call(tokenB, 'PATCH', `/conversations/${conversationA}`, { title: 'taken' })).status).toBe(
      404,
    );
  });

  it('cannot delete it', async () => {
    expect((await call(tokenB, 'DELETE', `/conversations/${conversationA}`)).status).toBe(404);
  });

  it('cannot continue it', async () => {
    const response = await call(tokenB, 'POST', '/chat/completions', {
      messages: [{ role: 'user', content: 'let me in' }],
      conversation_id: conversationA,
      max_tokens: 4,
    });
    expect(response.status).toBe(404);
  });

  it('does not see it listed', async () => {
    const list = await call(tokenB, 'GET', '/conversations?limit=100');
    expect(list.json().data.map((item: { id: string }) => item.id)).not.toContain(conversationA);
  });

  it('leaves it untouched for its owner', async () => {
    const response = await call(tokenA, 'GET', `/conversations/${conversationA}`);
    expect(response.status).toBe(200);
    expect(response.json().title).not.toBe('taken');
    expect(response.text).toContain(secretA);
  });
});

describe('exports', () => {
  it("never contain the other user's data", async () => {
    const [exportA, exportB] = await Promise.all([
      call(tokenA, 'GET', '/me/export'),
      call(tokenB, 'GET', '/me/export'),
    ]);
    expect(exportA.status).toBe(200);
    expect(exportA.text).toContain(secretA);
    expect(exportA.text).not.toContain(secretB);
    expect(exportB.text).toContain(secretB);
    expect(exportB.text).not.toContain(secretA);
  });
});
