import { describe, expect, it } from 'vitest';
import { conversationIdFromPath, pathForConversation } from '../../../web/src/route';

describe('conversation URLs', () => {
  it('round-trips a conversation id through the path', () => {
    const id = 'conv_0123456789abcdef0123456789abcdef';

    expect(pathForConversation(id)).toBe(`/c/${id}`);
    expect(conversationIdFromPath(pathForConversation(id))).toBe(id);
  });

  it('treats the root and unknown paths as a new chat', () => {
    expect(pathForConversation(undefined)).toBe('/');
    expect(conversationIdFromPath('/')).toBeUndefined();
    expect(conversationIdFromPath('/callback')).toBeUndefined();
    expect(conversationIdFromPath('/c/../../etc')).toBeUndefined();
  });
});
