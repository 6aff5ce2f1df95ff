/**
 * Feedback on answers against the local stack: a person rates an answer of their own conversation, changes and
 * clears the rating, sees it on the message; bad input is a 400 naming the field; nobody else can rate or see it;
 * each rating is an analytics event on the stream; and administrators see it in the feedback list with its rates.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../admin/harness';
import { call } from '../auth/harness';
import { ask, messagesOf, newPerson, type Person, type StoredMessage, watchEvents } from './support';

let owner: Person;
let other: Person;
let conversationId: string;
let answer: StoredMessage;
let question: StoredMessage;

const feedbackPath = (conversation: string, message: string) =>
  `/conversations/${conversation}/messages/${message}/feedback`;
const rate = (person: Person, body: unknown, message = answer.id, conversation = conversationId) =>
  call(person.token, 'POST', feedbackPath(conversation, message), body);

beforeAll(async () => {
  [owner, other] = await Promise.all([newPerson('rater'), newPerson('stranger')]);
  conversationId = await ask(owner, 'What is the capital of France?');
  const messages = await messagesOf(owner, conversationId);
  answer = messages.find((message) => message.role === 'assistant') as StoredMessage;
  question = messages.find((message) => message.role === 'user') as StoredMessage;
  expect(answer).toBeDefined();
});

describe('rating an answer', () => {
  it('stores a thumbs up with a comment and shows it on that message only', async () => {
    const rated = await rate(owner, { rating: 'up', comment: '  Clear and right.  ' });
    expect(rated.status, rated.text).toBe(200);
    expect(rated.json()).toMatchObject({
      object: 'conversation.message.feedback',
      conversation_id: conversationId,
      message_id: answer.id,
      feedback: { rating: 'up', comment: 'Clear and right.' },
    });
    const messages = await messagesOf(owner, conversationId);
    expect(messages.find((message) => message.id === answer.id)?.feedback).toMatchObject({
      rating: 'up',
      comment: 'Clear and right.',
    });
    expect(messages.find((message) => message.id === question.id)?.feedback).toBeUndefined();
  });

  it('changes the rating, keeping the comment unless a new (or empty) one is sent', async () => {
    const changed = await rate(owner, { rating: 'down' });
    expect(changed.json().feedback).toMatchObject({ rating: 'down', comment: 'Clear and right.' });
    const withoutComment = await rate(owner, { rating: 'down', comment: '' });
    expect(withoutComment.json().feedback).toMatchObject({ rating: 'down', comment: null });
    const messages = await messagesOf(owner, conversationId);
    expect(messages.find((message) => message.id === answer.id)?.feedback).toMatchObject({
      rating: 'down',
      comment: null,
    });
  });

  it('clears the rating with rating null', async () => {
    const cleared = await rate(owner, { rating: null });
    expect(cleared.status).toBe(200);
    expect(cleared.json().feedback).toBeNull();
    const messages = await messagesOf(owner, conversationId);
    expect(messages.find((message) => message.id === answer.id)?.feedback).toBeUndefined();
  });

  it('sends a feedback.rated event with the rating and the one before it, never the comment', async () => {
    const events = await watchEvents();
    const comment = `secret-comment-${crypto.randomUUID()}`;
    expect((await rate(owner, { rating: 'up', comment })).status).toBe(200);
    expect((await rate(owner, { rating: 'down' })).status).toBe(200);
    const first = await events.next(
      (event) => event.type === 'feedback.rated' && event.conversationId === conversationId,
    );
    expect(first).toMatchObject({
      sub: owner.login,
      model: expect.any(String),
      feedback: { rating: 'up', previous: 'none', hasComment: true },
    });
    expect(JSON.stringify(first)).not.toContain(comment);
    const second = await events.next(
      (event) =>
        event.type === 'feedback.rated' &&
        event.conversationId === conversationId &&
        event.feedback?.previous === 'up',
    );
    expect(second.feedback).toEqual({ rating: 'down', previous: 'up', hasComment: true });
  });
});

describe('bad feedback', () => {
  it.each([
    [{ rating: 'meh' }, 'rating'],
    [{}, 'rating'],
    [{ rating: 'up', comment: 'x'.repeat(2001) }, 'comment'],
    [{ rating: null, comment: 'why' }, 'comment'],
    [{ rating: 'up', stars: 5 }, 'stars'],
  ])('refuses %j with a 400 naming %s', async (body, param) => {
    const refused = await rate(owner, body);
    expect(refused.status).toBe(400);
    expect(refused.json().error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('answers 404 naming message_id for a question, an unknown id and a malformed one', async () => {
    for (const message of [question.id, `msg_${'0'.repeat(32)}`, 'not-a-message']) {
      const refused = await rate(owner, { rating: 'up' }, message);
      expect(refused.status, message).toBe(404);
      expect(refused.json<{ error: { param: string } }>().error.param).toBe('message_id');
    }
  });
});

describe('someone else', () => {
  it('cannot rate the answer, through its conversation or their own', async () => {
    const before = (await messagesOf(owner, conversationId)).find((message) => message.id === answer.id);
    const theirs = await ask(other, 'Hello?');
    expect((await rate(other, { rating: 'up' })).status).toBe(404);
    expect((await rate(other, { rating: 'up' }, answer.id, theirs)).status).toBe(404);
    expect((await rate(other, { rating: null })).status).toBe(404);
    const after = (await messagesOf(owner, conversationId)).find((message) => message.id === answer.id);
    expect(after?.feedback).toEqual(before?.feedback);
  });
});

describe('the admin feedback list', () => {
  it('shows the rating newest first with the answer and comment, and counts it in the day’s and model’s rates', async () => {
    const comment = `admin-sees-${crypto.randomUUID()}`;
    const rated = await rate(owner, { rating: 'up', comment });
    expect(rated.status).toBe(200);
    const admin = await adminToken();
    const report = await call(admin, 'GET', '/admin/feedback?days=2&limit=100');
    expect(report.status, report.text).toBe(200);
    const body = report.json<{
      data: { message_id: string; rated_at: string; [key: string]: unknown }[];
      rates: { up: number; down: number; days: { date: string; up: number }[]; models: { model: string }[] };
    }>();
    const mine = body.data.find((item) => item.message_id === answer.id);
    expect(mine).toMatchObject({
      user_id: owner.login,
      conversation_id: conversationId,
      rating: 'up',
      comment,
      message: answer.content.slice(0, 1000),
    });
    const times = body.data.map((item) => item.rated_at);
    expect(times).toEqual([...times].sort().reverse());
    const today = new Date().toISOString().slice(0, 10);
    expect(body.rates.days.find((day) => day.date === today)?.up).toBeGreaterThanOrEqual(1);
    expect(body.rates.models.map((model) => model.model)).toContain(String(mine?.model));
  });

  it('pages with a cursor and filters by rating', async () => {
    const admin = await adminToken();
    const first = await call(admin, 'GET', '/admin/feedback?limit=1');
    expect(first.status).toBe(200);
    const page = first.json<{ data: unknown[]; has_more: boolean; next_cursor: string | null }>();
    expect(page.data).toHaveLength(1);
    if (page.has_more) {
      const next = await call(admin, 'GET', `/admin/feedback?limit=1&cursor=${page.next_cursor}`);
      expect(next.status).toBe(200);
      expect(next.json<{ data: unknown[] }>().data[0]).not.toEqual(page.data[0]);
    }
    const downs = await call(admin, 'GET', '/admin/feedback?rating=down&limit=100');
    expect(downs.json<{ data: { rating: string }[] }>().data.every((item) => item.rating === 'down')).toBe(
      true,
    );
    expect((await call(admin, 'GET', '/admin/feedback?cursor=bogus')).status).toBe(400);
  });

  it('is closed to people outside the admin group', async () => {
    expect((await call(owner.token, 'GET', '/admin/feedback')).status).toBe(403);
  });
});
