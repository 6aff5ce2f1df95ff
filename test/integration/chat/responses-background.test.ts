/**
 * Background responses on the local stack and its inference server, through the `openai` client: answered at once,
 * generated on as a resumable answer, read back from the store as events that number the same on every read (so
 * `starting_after` resumes after the last event seen). Holding the model mid-answer and cancelling are in
 * faults.test.ts, where the model can be held.
 */
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiBase, callApi, machineToken } from '../setup/context';

let client: OpenAI;
beforeAll(async () => {
  client = new OpenAI({ baseURL: apiBase(), apiKey: await machineToken('a'), maxRetries: 0 });
});

const MODEL = 'chatstack-local';

async function events(id: string, startingAfter?: number) {
  const read: OpenAI.Responses.ResponseStreamEvent[] = [];
  const stream = await client.responses.retrieve(id, {
    stream: true,
    ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
  });
  for await (const event of stream) read.push(event);
  return read;
}

const textOf = (read: readonly OpenAI.Responses.ResponseStreamEvent[]) =>
  read.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : [])).join('');

describe('a background response', () => {
  it('is answered at once as queued, then its events from the store follow it to the end', async () => {
    const created = await client.responses.create({
      model: MODEL,
      input: `Tell a long story (${crypto.randomUUID()}).`,
      background: true,
      max_output_tokens: 64,
    });
    expect(created).toMatchObject({ object: 'response', status: 'queued', background: true, output: [] });

    const read = await events(created.id);
    expect(read.map((event) => event.sequence_number)).toEqual(read.map((_, index) => index));
    expect(read[0]?.type).toBe('response.created');
    const last = read.at(-1);
    expect(['response.completed', 'response.incomplete']).toContain(last?.type);
    const stored = await client.responses.retrieve(created.id);
    // The SDK adds its `output_text` convenience to a retrieved response, not to an event's.
    const { output_text: _outputText, ...storedObject } = stored;
    expect(last && 'response' in last ? last.response : undefined).toEqual(storedObject);
    expect(stored.output_text).toBe(textOf(read));
    expect(stored.usage?.output_tokens).toBeLessThanOrEqual(64);
  });

  it('numbers its events the same on every read: starting_after resumes after any of them', async () => {
    const created = await client.responses.create({
      model: MODEL,
      input: 'Count slowly.',
      background: true,
      max_output_tokens: 48,
    });
    const whole = await events(created.id);
    expect(await events(created.id)).toEqual(whole);
    for (const after of [0, 1, Math.floor(whole.length / 2), whole.length - 2]) {
      expect(await events(created.id, after)).toEqual(whole.slice(after + 1));
    }
    expect(await events(created.id, whole.length + 5)).toEqual([]);
  });

  it('streams from the store when asked with stream: true, and continues a conversation afterwards', async () => {
    const stream = await client.responses.create({
      model: MODEL,
      input: 'Say something.',
      background: true,
      stream: true,
      max_output_tokens: 16,
    });
    const read: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) read.push(event);
    const created = read[0]?.type === 'response.created' ? read[0].response : undefined;
    expect(created?.background).toBe(true);
    expect(await events(created?.id ?? '')).toEqual(read);

    const next = await client.responses.create({
      model: MODEL,
      previous_response_id: created?.id ?? '',
      input: 'And then?',
      max_output_tokens: 4,
    });
    expect(['completed', 'incomplete']).toContain(next.status);
  });

  it('cannot be cancelled unless it runs in the background; a finished one stays as it ended', async () => {
    const plain = await client.responses.create({ model: MODEL, input: 'Hi.', max_output_tokens: 2 });
    const refused = await callApi(await machineToken('a'), 'POST', `/responses/${plain.id}/cancel`);
    expect(refused.status).toBe(400);
    expect(refused.json().error.param).toBe('response_id');

    const background = await client.responses.create({
      model: MODEL,
      input: 'Hi.',
      background: true,
      max_output_tokens: 2,
    });
    const ended = (await events(background.id)).at(-1);
    const status = ended && 'response' in ended ? ended.response.status : undefined;
    expect((await client.responses.cancel(background.id)).status).toBe(status);
  });
});
