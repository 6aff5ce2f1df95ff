import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../../web/src/api';
import { activeBranch, newestLeafUnder, siblingsOf, withStoredIds } from '../../../web/src/branches';

const message = (id: string, parent: string | null, role: 'user' | 'assistant'): StoredMessage => ({
  id,
  parent_id: parent,
  role,
  content: id,
  created_at: '2026-01-01T00:00:00Z',
  status: 'complete',
});

// q1 → a1 → q2 → a2, q2 edited as q2b → a2b, a2b regenerated as a2c (oldest first, as the API lists them).
const messages = [
  message('q1', null, 'user'),
  message('a1', 'q1', 'assistant'),
  message('q2', 'a1', 'user'),
  message('a2', 'q2', 'assistant'),
  message('q2b', 'a1', 'user'),
  message('a2b', 'q2b', 'assistant'),
  message('a2c', 'q2b', 'assistant'),
];

describe('branches in the web app', () => {
  it('places a message among the versions of its question or answer, oldest first', () => {
    expect(siblingsOf({ messages }, 'q2b')).toEqual({ index: 1, ids: ['q2', 'q2b'] });
    expect(siblingsOf({ messages }, 'a2b')).toEqual({ index: 0, ids: ['a2b', 'a2c'] });
    expect(siblingsOf({ messages }, 'a1')).toBeUndefined();
  });

  it('switches to a version through its newest leaf', () => {
    expect(newestLeafUnder({ messages }, 'q2')).toBe('a2');
    expect(newestLeafUnder({ messages }, 'q2b')).toBe('a2c');
    expect(newestLeafUnder({ messages }, 'a2')).toBe('a2');
    const branch = activeBranch({
      id: 'c',
      title: '',
      created_at: '',
      updated_at: '',
      messages,
      current_message_id: newestLeafUnder({ messages }, 'q2'),
    });
    expect(branch.map((one) => one.id)).toEqual(['q1', 'a1', 'q2', 'a2']);
  });

  it('gives a just-sent question its stored id from its answer', () => {
    const shown = [
      { key: 'k1', id: 'q1', role: 'user' },
      { key: 'k2', id: 'a1', role: 'assistant' },
      { key: 'k3', id: undefined, role: 'user' },
      { key: 'k4', id: 'a2c', role: 'assistant' },
    ];
    expect(withStoredIds(shown, { messages }).map((one) => one.id)).toEqual(['q1', 'a1', 'q2b', 'a2c']);
    // An answer the store does not have names nothing.
    const unknown = [
      { key: 'k1', id: undefined, role: 'user' },
      { key: 'k2', id: 'msg_other', role: 'assistant' },
    ];
    expect(withStoredIds(unknown, { messages })[0]?.id).toBeUndefined();
  });
});
