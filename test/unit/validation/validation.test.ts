import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ChatCompletionRequest,
  ConversationListQuery,
  chatCompletionRequestSchema,
  LIMITS,
} from '../../../lambdas/contracts/api';
import { ValidationError } from '../../../lambdas/shared/errors';
import { paramOf, parseJsonBody, parseQuery } from '../../../lambdas/validation';

const valid = { model: 'chatstack-default', messages: [{ role: 'user', content: 'Hello' }] };
const body = (value: unknown) => ({ body: JSON.stringify(value) });

function rejection(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseJsonBody with the chat completion schema', () => {
  it('accepts an OpenAI request with conversation_id', () => {
    const request = parseJsonBody(
      body({
        ...valid,
        stream: true,
        stream_options: { include_usage: true },
        conversation_id: `conv_${'a'.repeat(32)}`,
      }),
      ChatCompletionRequest,
    );
    expect(request.conversation_id).toBe(`conv_${'a'.repeat(32)}`);
  });

  it('names the field of a wrong message, e.g. messages[3].content', () => {
    const messages = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
      { role: 'user', content: 42 },
    ];
    const error = rejection(() => parseJsonBody(body({ ...valid, messages }), ChatCompletionRequest));
    expect(error.param).toBe('messages[3].content');
    expect(error.statusCode).toBe(400);
  });

  it('rejects unknown fields and names them', () => {
    const error = rejection(() => parseJsonBody(body({ ...valid, best_of: 2 }), ChatCompletionRequest));
    expect(error.param).toBe('best_of');
    expect(error.code).toBe('unknown_parameter');
  });

  it('rejects a message longer than 16,000 characters', () => {
    const long = 'x'.repeat(LIMITS.maxMessageChars + 1);
    const error = rejection(() =>
      parseJsonBody(body({ messages: [{ role: 'user', content: long }] }), ChatCompletionRequest, 1_000_000),
    );
    expect(error.param).toBe('messages[0].content');
  });

  it('measures message length after NFC normalisation', () => {
    // 8,000 "e" + combining acute = 16,000 code units, NFC makes 8,000 "é".
    const decomposed = 'e\u0301'.repeat(8_000);
    const request = parseJsonBody(
      body({ messages: [{ role: 'user', content: decomposed }] }),
      ChatCompletionRequest,
    );
    expect(request.messages[0]?.content).toBe('\u00e9'.repeat(8_000));
  });

  it('rejects more than 50 messages', () => {
    const messages = Array.from({ length: 51 }, () => ({ role: 'user', content: 'hi' }));
    expect(rejection(() => parseJsonBody(body({ messages }), ChatCompletionRequest)).param).toBe('messages');
  });

  it('caps max_tokens and max_completion_tokens at the configured ceiling', () => {
    const schema = chatCompletionRequestSchema(100);
    expect(rejection(() => parseJsonBody(body({ ...valid, max_tokens: 101 }), schema)).param).toBe(
      'max_tokens',
    );
    expect(rejection(() => parseJsonBody(body({ ...valid, max_completion_tokens: 101 }), schema)).param).toBe(
      'max_completion_tokens',
    );
    expect(parseJsonBody(body({ ...valid, max_completion_tokens: 100 }), schema).max_completion_tokens).toBe(
      100,
    );
  });

  it('rejects a body over 64 KB before parsing it', () => {
    const error = rejection(() =>
      parseJsonBody({ body: 'x'.repeat(LIMITS.maxBodyBytes + 1) }, ChatCompletionRequest),
    );
    expect(error.code).toBe('request_too_large');
  });

  it('answers malformed JSON, empty bodies and non-objects with invalid_json', () => {
    for (const raw of ['{', '', '[]', '"text"', 'null']) {
      expect(rejection(() => parseJsonBody({ body: raw }, ChatCompletionRequest)).code).toBe('invalid_json');
    }
  });

  it('decodes base64 bodies', () => {
    const encoded = Buffer.from(JSON.stringify(valid)).toString('base64');
    expect(
      parseJsonBody({ body: encoded, isBase64Encoded: true }, ChatCompletionRequest).messages,
    ).toHaveLength(1);
  });

  it('turns every arbitrary JSON value into either a request or a ValidationError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseJsonBody({ body: JSON.stringify(value) ?? '' }, ChatCompletionRequest);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('turns every mutation of a valid request into either a request or a ValidationError', () => {
    const field = fc.constantFrom(
      'model',
      'messages',
      'stream',
      'max_tokens',
      'temperature',
      'stop',
      'conversation_id',
      'n',
    );
    fc.assert(
      fc.property(field, fc.anything(), (name, value) => {
        try {
          parseJsonBody({ body: JSON.stringify({ ...valid, [name]: value }) ?? '' }, ChatCompletionRequest);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('parseQuery', () => {
  it('coerces and bounds the list limit', () => {
    expect(parseQuery({ limit: '5' }, ConversationListQuery).limit).toBe(5);
    expect(parseQuery(null, ConversationListQuery).limit).toBe(LIMITS.defaultListLimit);
    expect(rejection(() => parseQuery({ limit: '1000' }, ConversationListQuery)).param).toBe('limit');
    expect(rejection(() => parseQuery({ sort: 'asc' }, ConversationListQuery)).param).toBe('sort');
  });
});

describe('paramOf', () => {
  it('formats paths the way OpenAI names parameters', () => {
    expect(paramOf(['messages', 3, 'content', 0, 'text'])).toBe('messages[3].content[0].text');
    expect(paramOf([])).toBeNull();
  });
});
