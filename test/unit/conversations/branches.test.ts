import { describe, expect, it } from 'vitest';
import { activeLeaf, newestLeafUnder, pathTo, withParents } from '../../../lambdas/conversations/branches';
import type { StoredMessage } from '../../../lambdas/conversations/store';
import { activeBranch } from '../../../web/src/branches';

const message = (id: string, parentId: string | null | undefined, sequence: number): StoredMessage => ({
  messageId: id,
  conversationId: 'conv_x',
  sequence,
  role: sequence % 2 === 0 ? 'user' : 'assistant',
  content: id,
  createdAt: '2026-01-01T00:00:00.000Z',
  status: 'complete',
  ...(parentId === undefined ? {} : { parentId }),
});

// q1 → a1 → q2 → a2, and an edit q2b → a2b beside q2.
const tree = [
  message('q1', null, 0),
  message('a1', 'q1', 1),
  message('q2', 'a1', 2),
  message('a2', 'q2', 3),
  message('q2b', 'a1', 4),
  message('a2b', 'q2b', 5),
];

describe('conversation branches', () => {
  it('read messages stored before branches as one line, each following the one before it', () => {
    const legacy = withParents([message('q1', undefined, 0), message('a1', undefined, 1)]);
    expect(legacy.map((item) => item.parentId)).toEqual([null, 'q1']);
  });

  it('keep a root of a new branch a root', () => {
    const edited = withParents([...tree, message('q1b', null, 6)]);
    expect(edited.at(-1)?.parentId).toBeNull();
  });

  it('give the path from the root to a leaf, and say when it runs past what was read', () => {
    expect(pathTo(tree, 'a2b').path.map((item) => item.messageId)).toEqual(['q1', 'a1', 'q2b', 'a2b']);
    expect(pathTo(tree, 'a2b').complete).toBe(true);
    expect(pathTo(tree.slice(2), 'a2').complete).toBe(false);
  });

  it('switch to the newest leaf under a message, and fall back to the newest message', () => {
    expect(newestLeafUnder(tree, 'q2')).toBe('a2');
    expect(newestLeafUnder(tree, 'a1')).toBe('a2b');
    expect(activeLeaf(tree, 'msg_gone')?.messageId).toBe('a2b');
    expect(activeLeaf(tree, 'a2')?.messageId).toBe('a2');
  });

  it('show the web app the active branch only', () => {
    const view = (item: StoredMessage) => ({
      id: item.messageId,
      parent_id: item.parentId ?? null,
      role: item.role,
      content: item.content,
      created_at: item.createdAt,
      status: item.status,
    });
    const detail = {
      id: 'conv_x',
      title: 't',
      created_at: '',
      updated_at: '',
      messages: tree.map(view),
      current_message_id: 'a2',
    };
    expect(activeBranch(detail).map((item) => item.id)).toEqual(['q1', 'a1', 'q2', 'a2']);
  });
});
