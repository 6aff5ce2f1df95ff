import { describe, expect, it } from 'vitest';
import {
  type Grounding,
  groundedLimits,
  groundedTokensWanted,
  groundTurn,
} from '../../../lambdas/chat/grounding';
import type { TurnRecord } from '../../../lambdas/chat/pipeline';
import {
  DEFAULT_LIMITS,
  type PreparedTurn,
  promptBudget,
  type TurnLimits,
} from '../../../lambdas/chat/prepare';
import { replayAsSse } from '../../../lambdas/chat/sse';
import type { ChatCompletionRequest } from '../../../lambdas/contracts/api';
import type { ConversationStore } from '../../../lambdas/conversations/store';

const LIMITS: TurnLimits = { ...DEFAULT_LIMITS, modelContextTokens: 8192, maxCompletionTokens: 1024 };
const REQUEST: ChatCompletionRequest = { messages: [{ role: 'user', content: 'What is the code?' }] };
const CITATION = {
  file_id: 'file-0',
  filename: 'notes.txt',
  chunk_id: 'file-0:3',
  text: 'The code is 7419.',
};

function grounding(tokens: number, attach: string[] = []): Grounding {
  return { attach, quoted: '<<<file_excerpt chunk_id="file-0:3">>>…', tokens, citations: [CITATION] };
}

function prepared(): PreparedTurn {
  return {
    conversationId: 'conv_0',
    place: Promise.resolve({ firstSequence: 0, assistantSequence: 2 }),
    questionStored: Promise.resolve(),
    answerMessageId: 'msg_answer',
    answerParentId: 'msg_question',
    prompt: {
      messages: [
        { role: 'system', content: 'Be helpful.' },
        { role: 'user', content: 'What is the code?' },
      ],
      max_tokens: 1024,
    },
    promptText: 'What is the code?',
    turnsDropped: 0,
    estimatedPromptTokens: 30,
    inputModeration: undefined,
  };
}

const noStore = {
  db: { send: () => Promise.reject(new Error('no writes expected')) },
} as unknown as ConversationStore;
const deps = { store: noStore, moderation: undefined as never, limits: LIMITS };

describe('the grounding stage', () => {
  it('takes the passages’ tokens out of the context window’s budget', () => {
    const limits = groundedLimits(REQUEST, LIMITS, grounding(500));
    expect(promptBudget(REQUEST, limits)).toBe(promptBudget(REQUEST, LIMITS) - 500);
    expect(limits.maxCompletionTokens).toBe(LIMITS.maxCompletionTokens);
    expect(groundedLimits(REQUEST, LIMITS, undefined)).toBe(LIMITS);
  });

  it('holds the answer shorter when a passage takes more than its share of a small context', () => {
    const small: TurnLimits = { ...LIMITS, modelContextTokens: 2048, maxCompletionTokens: 2048 };
    const limits = groundedLimits(REQUEST, small, grounding(1400));
    expect(limits.maxCompletionTokens).toBe(256);
    // Prompt (passages included) and answer still fit the context.
    expect(promptBudget(REQUEST, limits) + 1400 + 256).toBeLessThanOrEqual(2048);
  });

  it('quotes the passages in the user’s turn before the question, never in the system prompt', () => {
    const turn = groundTurn(deps, 'user-a', REQUEST, prepared(), grounding(500), undefined);
    expect(turn.prompt.messages.map((message) => message.role)).toEqual(['system', 'user', 'user']);
    expect(turn.prompt.messages[1]?.content).toContain('<<<file_excerpt');
    expect(turn.prompt.messages[0]?.content).toBe('Be helpful.');
    expect(turn.prompt.messages[2]?.content).toBe('What is the code?');
    expect(turn.estimatedPromptTokens).toBe(530);
    expect(turn.citations).toEqual([CITATION]);
  });

  it('leaves the prompt alone when no passage matched, and still cites nothing', () => {
    const turn = groundTurn(
      deps,
      'user-a',
      REQUEST,
      prepared(),
      { ...grounding(0), quoted: '', citations: [] },
      0,
    );
    expect(turn.prompt.messages).toHaveLength(2);
    expect(turn.citations).toEqual([]);
  });

  it('reserves the whole context on the quota for a turn that attaches files', () => {
    expect(groundedTokensWanted({ ...REQUEST, file_ids: ['file-0'] }, LIMITS, undefined)).toBe(8192);
    expect(groundedTokensWanted(REQUEST, LIMITS, undefined)).toBeLessThan(8192);
  });
});

describe('citations in a stream', () => {
  it('come as one chunk after the finish and before the usage chunk', () => {
    const record = {
      completion: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hi', refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        conversation_id: 'conv_0123456789abcdef0123456789abcdef',
        citations: [CITATION],
      },
      status: 'complete',
      turnsDropped: 0,
      quota: undefined,
    } as TurnRecord;
    const data = replayAsSse(record, true)
      .split('\n\n')
      .filter((event) => event.startsWith('data: {'))
      .map((event) => JSON.parse(event.slice(6)) as Record<string, unknown>);
    const citationsAt = data.findIndex((chunk) => chunk.citations !== undefined);
    const usageAt = data.findIndex((chunk) => chunk.usage !== null);
    const finishAt = data.findIndex((chunk) => JSON.stringify(chunk).includes('"finish_reason":"stop"'));
    expect(data[citationsAt]).toMatchObject({ choices: [], citations: [CITATION] });
    expect(finishAt).toBeLessThan(citationsAt);
    expect(citationsAt).toBe(usageAt - 1);
  });
});
