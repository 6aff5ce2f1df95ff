import { describe, expect, it } from 'vitest';
import { GENERATION_LIFETIME_MS, settleAbandoned } from '../../../lambdas/conversations/abandoned';
import type { StoredMessage } from '../../../lambdas/conversations/store';

const generating: StoredMessage = {
  messageId: 'msg_1',
  conversationId: 'conv_1',
  sequence: 1,
  role: 'assistant',
  content: 'So far',
  createdAt: '2026-12-01T10:00:00.000Z',
  status: 'generating',
};
const startedAt = Date.parse(generating.createdAt);

describe('an answer left generating', () => {
  it('still reads generating while its generation could be running', () => {
    expect(settleAbandoned(generating, startedAt + GENERATION_LIFETIME_MS).status).toBe('generating');
  });

  it('reads interrupted, its text kept, once no chat invocation could still be writing it', () => {
    const settled = settleAbandoned(generating, startedAt + GENERATION_LIFETIME_MS + 1);
    expect(settled).toEqual({ ...generating, status: 'interrupted' });
  });

  it('leaves finished answers as they are, however old', () => {
    const complete: StoredMessage = { ...generating, status: 'complete' };
    expect(settleAbandoned(complete, startedAt + 10 * GENERATION_LIFETIME_MS)).toBe(complete);
  });
});
