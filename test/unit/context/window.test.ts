import { describe, expect, it } from 'vitest';
import { buildContextWindow, type ContextMessage, estimateTokens } from '../../../lambdas/context';

const turn = (index: number, size = 10): ContextMessage[] => [
  { role: 'user', content: `question ${index} ${'q'.repeat(size)}` },
  { role: 'assistant', content: `answer ${index} ${'a'.repeat(size)}` },
];

describe('buildContextWindow', () => {
  it('sends the system prompt, earlier turns and the new message', () => {
    const result = buildContextWindow('Be nice.', turn(1), [{ role: 'user', content: 'next' }]);
    expect(result.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(result.turnsDropped).toBe(0);
  });

  it('keeps at most the last 10 earlier turns and reports the rest as dropped', () => {
    const history = Array.from({ length: 14 }, (_, index) => turn(index)).flat();
    const result = buildContextWindow('s', history, [{ role: 'user', content: 'new' }]);
    expect(result.turnsDropped).toBe(4);
    expect(result.messages[1]?.content).toContain('question 4');
  });

  it('drops whole turns that do not fit the token budget, never half a message', () => {
    const history = [...turn(1, 4_000), ...turn(2, 40)];
    const result = buildContextWindow('s', history, [{ role: 'user', content: 'new' }], {
      maxTurns: 10,
      tokenBudget: 500,
    });
    expect(result.messages.map((message) => message.content.slice(0, 10))).toEqual([
      's',
      'question 2',
      'answer 2 a',
      'new',
    ]);
    expect(result.turnsDropped).toBe(1);
  });

  it('counts stored turns that were not even loaded as dropped', () => {
    const result = buildContextWindow('s', turn(1), [{ role: 'user', content: 'new' }], undefined, 7);
    expect(result.turnsDropped).toBe(7);
  });

  it('always keeps the newest turn', () => {
    const result = buildContextWindow('s', [], [{ role: 'user', content: 'x'.repeat(100_000) }], {
      maxTurns: 10,
      tokenBudget: 10,
    });
    expect(result.messages).toHaveLength(2);
  });
});

describe('estimateTokens', () => {
  it('counts non-ASCII text at least one token per character', () => {
    expect(estimateTokens('日本語のテキスト')).toBeGreaterThanOrEqual(8);
    expect(estimateTokens('a'.repeat(400))).toBeLessThan(120);
  });

  it('follows a byte-level vocabulary when told one character is one token', () => {
    expect(estimateTokens('a'.repeat(400), 1)).toBeGreaterThanOrEqual(400);
    expect(estimateTokens('é', 1)).toBeGreaterThanOrEqual(2);
  });
});
