import { type Dispatch, type StateUpdater, useCallback, useMemo, useRef } from 'preact/hooks';
import type { ApiClient, ConversationSummary } from '../api';
import { describeProblem } from '../errors';
import { currentTitle, setPinned } from '../find-api';

/** How often, and how many times, the list is asked for a new conversation's written title. */
export const TITLE_POLL = { intervalMs: 1500, attempts: 8 } as const;

/**
 * The sidebar's pins and model-written titles. A new conversation's title is written off the request, after its
 * first answer: the list is asked a bounded number of times until the title changes, then the item is updated.
 */
export function useFindActions(
  api: ApiClient,
  setConversations: Dispatch<StateUpdater<ConversationSummary[]>>,
  notify: (message: string) => void,
  reload: () => Promise<void>,
) {
  const awaitingTitle = useRef(new Set<string>());

  const expectTitle = useCallback((id: string) => {
    awaitingTitle.current.add(id);
  }, []);

  const watching = useRef(new Set<string>());

  const watchTitle = useCallback(
    (id: string) => {
      if (!awaitingTitle.current.delete(id)) return;
      watching.current.add(id);
      let first: string | undefined;
      const poll = async (attempt: number) => {
        const title = await currentTitle(api, id).catch(() => undefined);
        // A rename meanwhile ends the watch: the user's title is the one to show.
        if (!watching.current.has(id)) return;
        // Shown whatever it is (the title may have arrived before the first look); a change ends the watch.
        if (title !== undefined)
          setConversations((list) =>
            list.map((item) => (item.id === id && item.title !== title ? { ...item, title } : item)),
          );
        first ??= title;
        if ((title !== undefined && title !== first) || attempt >= TITLE_POLL.attempts) {
          watching.current.delete(id);
          return;
        }
        window.setTimeout(() => void poll(attempt + 1), TITLE_POLL.intervalMs);
      };
      void poll(0);
    },
    [api, setConversations],
  );

  /** The user renamed the conversation: no written title replaces theirs on screen. */
  const stopWatching = useCallback((id: string) => {
    awaitingTitle.current.delete(id);
    watching.current.delete(id);
  }, []);

  const pin = useCallback(
    async (conversation: ConversationSummary, pinned: boolean) => {
      try {
        await setPinned(api, conversation.id, pinned);
        // The server's order: pinned conversations first.
        await reload();
        notify(pinned ? 'Conversation pinned.' : 'Conversation unpinned.');
      } catch (error) {
        notify(`That did not work: ${describeProblem(error).detail}`);
      }
    },
    [api, notify, reload],
  );

  return useMemo(
    () => ({ expectTitle, watchTitle, stopWatching, pin }),
    [expectTitle, watchTitle, stopWatching, pin],
  );
}
