import { describe, expect, it } from 'vitest';
import { pageFromPath } from '../../../web/src/route';
import { apiSnippets, KEY_VARIABLE } from '../../../web/src/snippets';

describe('pageFromPath', () => {
  it('opens the API keys page and the API reference by their paths, with or without a trailing slash', () => {
    expect(pageFromPath('/keys')).toBe('keys');
    expect(pageFromPath('/keys/')).toBe('keys');
    expect(pageFromPath('/docs')).toBe('docs');
  });

  it('shows the chat everywhere else', () => {
    expect(pageFromPath('/')).toBe('chat');
    expect(pageFromPath('/c/conv_0123')).toBe('chat');
    expect(pageFromPath('/keys/other')).toBe('chat');
  });
});

describe('apiSnippets', () => {
  const snippets = apiSnippets('https://api.chat.example.com/prod');

  it('call this deployment’s /v1 base URL with curl and both openai clients', () => {
    expect(snippets.map((snippet) => snippet.id)).toEqual(['curl', 'node', 'python']);
    for (const snippet of snippets) expect(snippet.code).toContain('https://api.chat.example.com/prod/v1');
  });

  it('read the key from an environment variable, never embedding one', () => {
    for (const snippet of snippets) {
      expect(snippet.code).toContain(KEY_VARIABLE);
      expect(snippet.code).not.toMatch(/csk_[0-9A-Za-z]{10}/);
    }
  });
});
