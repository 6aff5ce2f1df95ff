/**
 * Share links against the local stack: the owner shares a snapshot of the active branch; anyone opens it without
 * a token and sees the questions and answers but no ids of people or messages, and a `noindex` header; later
 * messages stay out until the owner shares again (same link); revoking, deleting the conversation or erasing
 * the account makes the link a 404; nobody else can share or revoke; export lists shares and feedback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../auth/harness';
import { ask, messagesOf, newPerson, type Person } from './support';

let owner: Person;
let other: Person;
let conversationId: string;

interface SharedPage {
  id: string;
  title: string;
  messages: { role: string; content: string }[];
}

const share = (person: Person, conversation = conversationId) =>
  call(person.token, 'POST', `/conversations/${conversation}/share`);
const revoke = (person: Person, conversation = conversationId) =>
  call(person.token, 'DELETE', `/conversations/${conversation}/share`);
const open = (shareId: string) => call(undefined, 'GET', `/shared/${shareId}`);
/** What a snapshot of these messages shows: questions and answers with text (a generated answer may be empty). */
const shown = (messages: readonly { role: string; content: string }[]) =>
  messages
    .filter((message) => ['user', 'assistant'].includes(message.role) && message.content.trim() !== '')
    .map((message) => [message.role, message.content]);

beforeAll(async () => {
  [owner, other] = await Promise.all([newPerson('sharer'), newPerson('visitor')]);
  conversationId = await ask(owner, 'Share this question about tides, please.');
});

describe('a share link', () => {
  it('opens without a token: the title and the branch’s text, no ids, not indexed', async () => {
    const shared = await share(owner);
    expect(shared.status, shared.text).toBe(200);
    const link = shared.json<{ id: string; url: string; conversation_id: string; message_count: number }>();
    expect(link.id).toMatch(/^shr_[A-Za-z0-9_-]{22}$/);
    expect(link.url.endsWith(`/s/${link.id}`)).toBe(true);
    const stored = await messagesOf(owner, conversationId);
    expect(link).toMatchObject({ conversation_id: conversationId, message_count: shown(stored).length });

    const page = await open(link.id);
    expect(page.status, page.text).toBe(200);
    expect(page.headers.get('x-robots-tag')).toContain('noindex');
    const body = page.json<SharedPage>();
    expect(body.messages.map((message) => [message.role, message.content])).toEqual(shown(stored));
    expect(body.messages[0]).toMatchObject({
      role: 'user',
      content: 'Share this question about tides, please.',
    });
    expect(body.title).toContain('tides');
    // Nothing that names the owner or lets anyone address their data.
    for (const secret of [owner.login, conversationId, ...stored.map((message) => message.id)]) {
      expect(page.text).not.toContain(secret);
    }
  });

  it('keeps its snapshot while the conversation goes on, and moves it when shared again (same link)', async () => {
    const first = (await share(owner)).json<{ id: string }>();
    const sharedMessages = shown(await messagesOf(owner, conversationId));
    await ask(owner, 'And a follow-up that came later.', conversationId);
    const before = (await open(first.id)).json<SharedPage>();
    expect(before.messages.map((message) => [message.role, message.content])).toEqual(sharedMessages);
    expect(JSON.stringify(before)).not.toContain('follow-up that came later');

    const now = shown(await messagesOf(owner, conversationId));
    const again = await share(owner);
    expect(again.json()).toMatchObject({ id: first.id, message_count: now.length });
    const after = (await open(first.id)).json<SharedPage>();
    expect(after.messages.map((message) => [message.role, message.content])).toEqual(now);
    expect(JSON.stringify(after)).toContain('follow-up that came later');
  });

  it('cannot be made or revoked by anyone else (404), and stays open', async () => {
    const link = (await share(owner)).json<{ id: string }>();
    expect((await share(other)).status).toBe(404);
    expect((await revoke(other)).status).toBe(404);
    expect((await open(link.id)).status).toBe(200);
  });

  it('answers 404 once revoked, with noindex too, and a second revoke is a 404', async () => {
    const link = (await share(owner)).json<{ id: string }>();
    const revoked = await revoke(owner);
    expect(revoked.status).toBe(200);
    const gone = await open(link.id);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('x-robots-tag')).toContain('noindex');
    expect(gone.json<{ error: { type: string } }>().error.type).toBe('not_found_error');
    expect((await revoke(owner)).status).toBe(404);
    // Sharing after a revocation makes a new link: the old one stays dead.
    const fresh = (await share(owner)).json<{ id: string }>();
    expect(fresh.id).not.toBe(link.id);
    expect((await open(link.id)).status).toBe(404);
  });

  it('answers 404 for an id nobody made and for a malformed one', async () => {
    expect((await open(`shr_${'A'.repeat(22)}`)).status).toBe(404);
    expect((await open('not-a-share')).status).toBe(404);
  });

  it('dies with its conversation', async () => {
    const doomed = await ask(owner, 'A conversation to delete.');
    const link = (await share(owner, doomed)).json<{ id: string }>();
    expect((await open(link.id)).status).toBe(200);
    expect((await call(owner.token, 'DELETE', `/conversations/${doomed}`)).status).toBe(200);
    expect((await open(link.id)).status).toBe(404);
  });
});

describe('a person’s shares and feedback', () => {
  it('are in their export, and erasure removes them and revokes every link', async () => {
    const person = await newPerson('erased');
    const conversation = await ask(person, 'Something to share and rate.');
    const answer = (await messagesOf(person, conversation)).find((message) => message.role === 'assistant');
    const rated = await call(
      person.token,
      'POST',
      `/conversations/${conversation}/messages/${answer?.id}/feedback`,
      {
        rating: 'down',
        comment: 'too short',
      },
    );
    expect(rated.status).toBe(200);
    const link = (await share(person, conversation)).json<{ id: string; url: string }>();

    const exported = await call(person.token, 'GET', '/me/export');
    expect(exported.status).toBe(200);
    const document = exported.json<{
      feedback: unknown[];
      shares: unknown[];
      conversations: { messages: { id: string; feedback?: unknown }[] }[];
    }>();
    expect(document.feedback).toEqual([
      expect.objectContaining({
        conversation_id: conversation,
        message_id: answer?.id,
        rating: 'down',
        comment: 'too short',
      }),
    ]);
    expect(document.shares).toEqual([
      expect.objectContaining({ id: link.id, url: link.url, conversation_id: conversation }),
    ]);
    // The other user's export has none of it.
    const theirs = await call(other.token, 'GET', '/me/export');
    expect(theirs.text).not.toContain(link.id);
    expect(theirs.text).not.toContain('too short');

    expect((await call(person.token, 'DELETE', '/me')).status).toBe(200);
    expect((await open(link.id)).status).toBe(404);
    const after = (await call(person.token, 'GET', '/me/export')).json<{
      feedback: unknown[];
      shares: unknown[];
    }>();
    expect(after.feedback).toEqual([]);
    expect(after.shares).toEqual([]);
  });
});
