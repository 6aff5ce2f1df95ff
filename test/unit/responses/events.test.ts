import { describe, expect, it } from 'vitest';
import { type ResponseEvent, ResponseEventEncoder } from '../../../lambdas/responses/events';
import { type AnswerView, outcomeOf, responseObject } from '../../../lambdas/responses/objects';
import type { ResponseSettings } from '../../../lambdas/responses/store';

const settings: ResponseSettings = {
  model: 'm',
  instructions: null,
  tools: [],
  toolChoice: 'auto',
  textFormat: { type: 'text' },
  temperature: null,
  topP: null,
  maxOutputTokens: null,
  parallelToolCalls: true,
  metadata: {},
  reasoningEffort: null,
  user: null,
  background: false,
  store: true,
  previousResponseId: null,
};
const head = { responseId: `resp_${'a'.repeat(32)}`, createdAt: 1, settings, conversationId: 'conv_1' };
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

function encode(run: (encoder: ResponseEventEncoder) => void): ResponseEvent[] {
  const events: ResponseEvent[] = [];
  run(new ResponseEventEncoder((event) => events.push(event)));
  return events;
}

describe('the typed events of a response', () => {
  it('come in OpenAI’s order, numbered from 0, the done events carrying the final text', () => {
    const answer: AnswerView = {
      messageId: 'msg_1',
      text: 'Hello there',
      toolCalls: [],
      status: 'complete',
      usage,
    };
    const events = encode((encoder) => {
      encoder.start(responseObject(head, undefined, outcomeOf(undefined, {})));
      encoder.text('msg_1', 'Hello');
      encoder.text('msg_1', ' there');
      encoder.end(responseObject(head, answer, outcomeOf(answer, {})));
    });
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(events[6]).toMatchObject({ text: 'Hello there', item_id: 'msg_1', output_index: 0 });
    expect(events[9]).toMatchObject({ response: { status: 'completed', usage: { total_tokens: 5 } } });
  });

  it('stream a function call’s arguments and close it with its final item', () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{"a":1}' } };
    const answer: AnswerView = { messageId: 'msg_1', text: '', toolCalls: [call], status: 'complete', usage };
    const events = encode((encoder) => {
      encoder.start(responseObject(head, undefined, outcomeOf(undefined, {})));
      encoder.toolCall({ index: 0, id: 'call_1', function: { name: 'f', arguments: '' } });
      encoder.toolCall({ index: 0, function: { arguments: '{"a":' } });
      encoder.toolCall({ index: 0, function: { arguments: '1}' } });
      encoder.end(responseObject(head, answer, outcomeOf(answer, {})));
    });
    expect(events.slice(2).map((event) => event.type)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[5]).toMatchObject({ arguments: '{"a":1}', name: 'f', item_id: 'fc_call1' });
    const final = events.at(-1)?.response as { output: { id: string }[] };
    expect(final.output.map((item) => item.id)).toEqual(['fc_call1']);
  });

  it('end a cut answer as incomplete, and a replayed answer shows its calls at the end', () => {
    const call = { id: 'c', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
    const answer: AnswerView = {
      messageId: 'msg_1',
      text: 'x',
      toolCalls: [call],
      status: 'complete',
      finishReason: 'length',
      usage,
    };
    const events = encode((encoder) => {
      encoder.text('msg_1', 'x');
      encoder.end(responseObject(head, answer, outcomeOf(answer, {})));
    });
    expect(events.map((event) => event.type)).toContain('response.function_call_arguments.done');
    expect(events.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
  });
});

describe('a response’s status', () => {
  const answer = (fields: Partial<AnswerView>): AnswerView => ({
    messageId: 'm',
    text: '',
    toolCalls: [],
    status: 'complete',
    ...fields,
  });

  it('follows its answer, a failure before it and a cancel', () => {
    expect(outcomeOf(undefined, { background: true }).status).toBe('queued');
    expect(outcomeOf(undefined, {}).status).toBe('in_progress');
    expect(outcomeOf(undefined, { error: { code: 'x', message: 'y' } }).status).toBe('failed');
    expect(outcomeOf(answer({ status: 'generating' }), { cancelRequested: true }).status).toBe('in_progress');
    expect(outcomeOf(answer({ status: 'interrupted' }), { cancelRequested: true }).status).toBe('cancelled');
    expect(outcomeOf(answer({ status: 'interrupted' }), {}).status).toBe('failed');
    expect(outcomeOf(answer({ status: 'content_filter' }), {})).toMatchObject({
      status: 'incomplete',
      incomplete: 'content_filter',
    });
  });
});
