import { describe, expect, it } from 'vitest';
import { ResponseCreateRequest } from '../../../lambdas/contracts/responses';
import { asResponsesError, chatRequestOf, inputItemsOf } from '../../../lambdas/responses/convert';
import { ValidationError } from '../../../lambdas/shared/errors';

const parse = (body: unknown) => ResponseCreateRequest.parse(body);
const stream = { stream: false, resumable: false };

describe('a Responses request as a chat turn', () => {
  it('puts instructions first and turns a string input into one user message', () => {
    const chat = chatRequestOf(parse({ input: 'Hi', instructions: 'Be brief.' }), undefined, stream);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
  });

  it('joins consecutive function calls into one assistant message, each output a tool message', () => {
    const chat = chatRequestOf(
      parse({
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'Two cities?' }] },
          { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
          { type: 'function_call', call_id: 'b', name: 'f', arguments: '{"x":1}' },
          { type: 'function_call_output', call_id: 'a', output: 'one' },
          { type: 'function_call_output', call_id: 'b', output: [{ type: 'input_text', text: 'two' }] },
        ],
        tools: [{ type: 'function', name: 'f' }],
        tool_choice: { type: 'function', name: 'f' },
      }),
      undefined,
      stream,
    );
    expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
    const assistant = chat.messages[1];
    expect(assistant?.role === 'assistant' ? assistant.tool_calls?.map((call) => call.id) : []).toEqual([
      'a',
      'b',
    ]);
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'f' } });
    expect(chat.tools?.[0]).toEqual({ type: 'function', function: { name: 'f' } });
  });

  it('maps text.format to response_format and max_output_tokens to max_completion_tokens', () => {
    const chat = chatRequestOf(
      parse({
        input: 'x',
        max_output_tokens: 7,
        text: { format: { type: 'json_schema', name: 'a', schema: { type: 'object' }, strict: true } },
      }),
      undefined,
      stream,
    );
    expect(chat.max_completion_tokens).toBe(7);
    expect(chat.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'a', schema: { type: 'object' }, strict: true },
    });
  });

  it('continues the previous response’s branch, skipping its own calls sent back, refusing other history', () => {
    const previous = { conversationId: 'conv_1', answerMessageId: 'msg_1', callIds: new Set(['a']) };
    const chat = chatRequestOf(
      parse({
        input: [
          { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'a', output: 'done' },
        ],
      }),
      previous,
      stream,
    );
    expect(chat).toMatchObject({ conversation_id: 'conv_1', parent_message_id: 'msg_1' });
    expect(chat.messages).toEqual([{ role: 'tool', tool_call_id: 'a', content: 'done' }]);
    expect(() =>
      chatRequestOf(parse({ input: [{ role: 'assistant', content: 'I said' }] }), previous, stream),
    ).toThrow(ValidationError);
  });

  it('gives every input item an id of its kind', () => {
    const items = inputItemsOf(
      parse({
        input: [
          { role: 'assistant', content: 'Earlier' },
          { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'a', output: 'x' },
        ],
      }),
    );
    expect(items.map((item) => item.id.split('_')[0])).toEqual(['msg', 'fc', 'fco']);
    expect(items[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'Earlier' }] });
  });

  it('names the Responses fields in errors the pipeline raises about chat fields', () => {
    const renamed = asResponsesError(new ValidationError('too long', 'messages', 'context_length_exceeded'));
    expect(renamed).toMatchObject({ param: 'input', code: 'context_length_exceeded', statusCode: 400 });
    expect(asResponsesError(new ValidationError('x', 'parent_message_id'))).toMatchObject({
      param: 'previous_response_id',
    });
    expect(asResponsesError(new ValidationError('x', 'temperature'))).toMatchObject({ param: 'temperature' });
  });
});
