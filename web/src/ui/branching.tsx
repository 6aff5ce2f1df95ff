import { useCallback, useState } from 'preact/hooks';
import type { ApiClient, ConversationDetail, StoredMessage } from '../api';
import { activeBranch, newestLeafUnder, siblingsOf } from '../branches';
import { type BranchFocus, BranchTools } from './BranchSwitcher';
import { EditQuestion } from './EditQuestion';
import type { UiMessage } from './Message';

/** An edited question sent as a new version: it follows `parentMessageId`, replacing the shown messages from `fromKey`. */
export interface QuestionEdit {
  readonly parentMessageId: string | null;
  readonly fromKey: string;
}

interface BranchingOptions {
  readonly api: ApiClient;
  /** The conversation on screen (undefined for a new chat). */
  readonly conversationId: { readonly current: string | undefined };
  /** Shows another branch: its messages, root first. */
  readonly onBranchShown: (branch: StoredMessage[]) => void;
  readonly onProblem: (error: unknown) => void;
}

/**
 * The conversation's tree beside the shown branch: which messages have siblings, switching between them
 * (the chosen branch's newest leaf becomes the conversation's current message), and editing a question.
 */
export function useBranching(options: BranchingOptions) {
  const { api, conversationId, onBranchShown, onProblem } = options;
  const [tree, setTree] = useState<ConversationDetail | undefined>(undefined);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [switching, setSwitching] = useState(false);
  const [focus, setFocus] = useState<{ readonly id: string; readonly where: BranchFocus } | undefined>();

  /** Re-reads the tree (after an answer was stored); resolves with it, or undefined when it could not be read. */
  const refresh = useCallback(
    async (id: string): Promise<ConversationDetail | undefined> => {
      try {
        const conversation = await api.getConversation(id);
        if (conversationId.current !== id) return undefined;
        setTree(conversation);
        return conversation;
      } catch {
        // The switcher appears with the next successful read; the answer itself is shown already.
        return undefined;
      }
    },
    [api, conversationId],
  );

  const switchTo = async (siblingId: string, direction: 'previous' | 'next') => {
    const id = conversationId.current;
    if (!tree || id === undefined || switching) return;
    const leaf = newestLeafUnder(tree, siblingId);
    setSwitching(true);
    try {
      await api.switchBranch(id, leaf);
      const switched = { ...tree, current_message_id: leaf };
      setTree(switched);
      setFocus({ id: siblingId, where: direction });
      onBranchShown(activeBranch(switched));
    } catch (error) {
      onProblem(error);
    } finally {
      setSwitching(false);
    }
  };

  /** The stored parent of a message (null: it is a root); undefined when the tree does not have it. */
  const parentOf = (messageId: string): string | null | undefined => {
    const message = tree?.messages.find((one) => one.id === messageId);
    return message === undefined ? undefined : (message.parent_id ?? null);
  };

  /** A conversation was opened (or left: undefined). */
  const reset = useCallback((conversation: ConversationDetail | undefined) => {
    setTree(conversation);
    setEditing(undefined);
    setFocus(undefined);
  }, []);

  return {
    tree,
    reset,
    refresh,
    /** The question being edited, by its key. */
    editing,
    /** Edit and version switcher of one message; `busy` while an answer streams. */
    toolsFor: (message: UiMessage, busy: boolean) => {
      const stored = message.id;
      const canEdit = message.role === 'user' && stored !== undefined && tree !== undefined;
      return (
        <BranchTools
          role={message.role}
          position={stored && tree ? siblingsOf(tree, stored) : undefined}
          disabled={busy || switching}
          onSwitch={(siblingId, direction) => void switchTo(siblingId, direction)}
          onEdit={canEdit ? () => setEditing(message.key) : undefined}
          focus={focus && focus.id === stored ? focus.where : undefined}
        />
      );
    },
    /** The question open for editing, in place of its message. */
    editorFor: (message: UiMessage, send: (text: string, edit: QuestionEdit) => void) => (
      <EditQuestion
        key={message.key}
        initial={message.content}
        onCancel={() => {
          setEditing(undefined);
          if (message.id) setFocus({ id: message.id, where: 'edit' });
        }}
        onSend={(text) => {
          setEditing(undefined);
          const parentMessageId = message.id ? parentOf(message.id) : undefined;
          if (parentMessageId !== undefined) send(text, { parentMessageId, fromKey: message.key });
        }}
      />
    ),
  };
}
