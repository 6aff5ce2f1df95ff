/**
 * Branches against the local stack: an edited question and a regenerated answer are siblings of the earlier ones,
 * the model is asked the active branch only (checked on what the inference server received), a PATCH switches
 * branches, and the export holds every branch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createConversation } from '../../../lambdas/conversations/store';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { DEV_MACHINE_CLIENTS } from '../../../scripts/local/identity';
import { seedConversation } from '../../../scripts/seed-conversation';
import { callApi, machineToken, stack } from '../setup/context';

let token: string;
beforeAll(async () => {
  token = await machineToken('a');
});

const call = (method: string, path: string, body?: unknown) => callApi(token, method, path, body);

interface Message {
  id: string;
  parent_id: string | null;
  role: string;
  content: string;
}
interface Stored {
  messages: Message[];
  current_message_id: string | null;
}

/** The messages the inference server was sent in the request whose last message is `question`. */
async function promptOf(question: string): Promise<string[]> {
  const response = await fetch(`${stack().inference}/debug/requests`);
  const { data } = (await response.json()) as {
    data: { body: { messages?: { role: string; content: string }[] } }[];
  };
  const request = data.findLast((entry) => entry.body.messages?.at(-1)?.content === question);
  expect(request, `the model was asked "${question}"`).toBeDefined();
  return (request?.body.messages ?? []).filter((message) => message.role !== 'system').map((m) => m.content);
}

async function ask(
  conversationId: string | undefined,
  question: string,
  extra: Record<string, unknown> = {},
) {
  const response = await call('POST', '/chat/completions', {
    messages: [{ role: 'user', content: question }],
    max_tokens: 4,
    ...(conversationId ? { conversation_id: conversationId } : {}),
    ...extra,
  });
  expect(response.status, response.text).toBe(200);
  return response.json() as { conversation_id: string; choices: { message: { content: string } }[] };
}

const stored = async (conversationId: string): Promise<Stored> =>
  (await call('GET', `/conversations/${conversationId}`)).json();

/** The active branch: `parent_id` followed from the current leaf, root first. */
function branchOf(conversation: Stored): Message[] {
  const byId = new Map(conversation.messages.map((message) => [message.id, message]));
  const path: Message[] = [];
  for (let next = byId.get(conversation.current_message_id ?? ''); next; ) {
    path.unshift(next);
    next = next.parent_id ? byId.get(next.parent_id) : undefined;
  }
  return path;
}

describe('branches', () => {
  it('edits a question as a sibling, asks the model the active branch, switches back, exports both', async () => {
    const tag = crypto.randomUUID();
    const q1 = `First question ${tag}`;
    const q2 = `Second question ${tag}`;
    const edited = `Second question, edited ${tag}`;
    const first = await ask(undefined, q1);
    const conversationId = first.conversation_id;
    await ask(conversationId, q2);
    const before = await stored(conversationId);
    const [, a1, storedQ2] = branchOf(before);

    await ask(conversationId, edited, { parent_message_id: a1?.id });

    const after = await stored(conversationId);
    expect(after.messages).toHaveLength(6);
    const editedQuestion = after.messages.find((message) => message.content === edited);
    expect(editedQuestion?.parent_id).toBe(a1?.id);
    expect(storedQ2?.parent_id).toBe(a1?.id);
    expect(await promptOf(edited)).toEqual([q1, a1?.content, edited]);
    expect(branchOf(after).map((message) => message.content)).toEqual([
      q1,
      a1?.content,
      edited,
      branchOf(after)[3]?.content,
    ]);

    // The next turn continues the active (edited) branch: the original second question is not in its context.
    const q3 = `Third question ${tag}`;
    await ask(conversationId, q3);
    const onEdited = branchOf(await stored(conversationId));
    expect(await promptOf(q3)).toEqual(
      onEdited
        .slice(0, 4)
        .map((message) => message.content)
        .concat(q3),
    );
    expect(await promptOf(q3)).not.toContain(q2);

    // Switching to the original question's branch lands on its newest leaf, and the next turn follows it.
    const switched = await call('PATCH', `/conversations/${conversationId}`, {
      current_message_id: storedQ2?.id,
    });
    expect(switched.status, switched.text).toBe(200);
    const original = branchOf(await stored(conversationId));
    expect(original.map((message) => message.id)).toEqual(branchOf(before).map((message) => message.id));
    const q4 = `Fourth question ${tag}`;
    await ask(conversationId, q4);
    expect(await promptOf(q4)).toEqual(original.map((message) => message.content).concat(q4));

    const exported = await call('GET', '/me/export');
    expect(exported.status).toBe(200);
    const conversation = (
      exported.json().conversations as { id: string; messages: Message[]; current_message_id: string }[]
    ).find((item) => item.id === conversationId);
    const exportedTexts = conversation?.messages.map((message) => message.content);
    expect(exportedTexts).toEqual(expect.arrayContaining([q1, q2, edited, q3, q4]));
    expect(conversation?.messages).toHaveLength(10);
    expect(conversation?.messages.find((message) => message.content === edited)?.parent_id).toBe(a1?.id);
  });

  it('regenerates an answer as a sibling: the earlier one stays reachable by switching to it', async () => {
    const question = `Name a bird (${crypto.randomUUID()}).`;
    const first = await ask(undefined, question);
    const conversationId = first.conversation_id;
    const [, oldAnswer] = branchOf(await stored(conversationId));

    const regenerated = await call('POST', '/chat/completions', {
      messages: [],
      conversation_id: conversationId,
      regenerate: true,
      max_tokens: 4,
      temperature: 1,
      seed: 7,
    });
    expect(regenerated.status, regenerated.text).toBe(200);

    const after = await stored(conversationId);
    const answers = after.messages.filter((message) => message.role === 'assistant');
    expect(answers).toHaveLength(2);
    expect(new Set(answers.map((message) => message.parent_id))).toEqual(new Set([branchOf(after)[0]?.id]));
    expect(after.current_message_id).not.toBe(oldAnswer?.id);
    expect(branchOf(after)[1]?.content).toBe(regenerated.json().choices[0].message.content);

    await call('PATCH', `/conversations/${conversationId}`, { current_message_id: oldAnswer?.id });
    expect((await stored(conversationId)).current_message_id).toBe(oldAnswer?.id);
  });

  it('answers 404 naming the field for a message the conversation does not have', async () => {
    const { conversation_id: conversationId } = await ask(undefined, `Hi (${crypto.randomUUID()})`);
    const missing = `msg_${'0'.repeat(32)}`;
    const turn = await call('POST', '/chat/completions', {
      messages: [{ role: 'user', content: 'Again' }],
      conversation_id: conversationId,
      parent_message_id: missing,
    });
    expect(turn.status).toBe(404);
    expect(turn.json().error).toMatchObject({ param: 'parent_message_id' });
    const patch = await call('PATCH', `/conversations/${conversationId}`, { current_message_id: missing });
    expect(patch.status).toBe(404);
    expect(patch.json().error).toMatchObject({ param: 'current_message_id' });
  });

  it('branches from a message far older than the newest messages, also one stored before branches', async () => {
    const sub = DEV_MACHINE_CLIENTS.a.clientId;
    const tag = crypto.randomUUID();
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: stack().dynamodb,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    const store = { db, tableName: LOCAL_TABLE_NAME, retentionDays: 0 };
    // 450 messages (225 turns), more than a turn reads at once; the first four were stored before branches.
    const count = 450;
    const conversationId = `conv_${tag.replaceAll('-', '')}`;
    const items = await seedConversation(db, LOCAL_TABLE_NAME, {
      sub,
      conversationId,
      count,
      contentOf: (sequence) => `${sequence % 2 === 0 ? 'question' : 'answer'} ${sequence} ${tag}`,
      withoutParents: 4,
    });
    const ids = items.map((item) => item.messageId);
    await createConversation(store, sub, {
      conversationId,
      title: 'A long conversation',
      reserve: { count, userTurns: count / 2 },
      currentMessageId: ids.at(-1),
    });

    // From an answer at the start (stored before branches: its parent is the message before it).
    const early = `An early branch ${tag}`;
    await ask(conversationId, early, { parent_message_id: ids[3] });
    expect(await promptOf(early)).toEqual(
      [0, 1, 2, 3].map((sequence) => items[sequence]?.content).concat(early),
    );
    // From an answer in the middle, far outside the newest messages.
    const middle = `A middle branch ${tag}`;
    await ask(conversationId, middle, { parent_message_id: ids[41] });
    const prompt = await promptOf(middle);
    expect(prompt.at(-2)).toBe(items[41]?.content);
    expect(prompt.at(-1)).toBe(middle);
    expect(prompt).not.toContain(early);
    // The turn's place in the tree is stored: its question follows the old answer, and it is the active branch.
    const after = await stored(conversationId);
    const question = after.messages.find((message) => message.content === middle);
    expect(question?.parent_id).toBe(ids[41]);
    expect(branchOf(after).map((message) => message.content)).toEqual(
      items
        .slice(0, 42)
        .map((item) => item.content)
        .concat(middle, branchOf(after).at(-1)?.content ?? ''),
    );
    db.destroy();
  });
});
