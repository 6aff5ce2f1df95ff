import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type ApiClient, type StoredMessage, StreamInterruptedError } from '../api';
import { SessionExpiredError } from '../auth';
import { activeBranch, withStoredIds } from '../branches';
import { announceableText, type StreamState } from '../chat-stream';
import { loadDraft, saveDraft } from '../drafts';
import { ApiRequestError, describeProblem, type Problem } from '../errors';
import { AttachButton, type AttachedFile, AttachmentChips, useAttachments } from './Attachments';
import { type QuestionEdit, useBranching } from './branching';
import { Composer } from './Composer';
import { feedbackFor, withMessageId } from './Feedback';
import { Icon } from './Icon';
import { MessageView, type UiMessage, type UiMessageStatus } from './Message';
import { ModelPicker, useModelChoice } from './ModelPicker';
import { PageHead } from './PageHead';
import { ProblemBanner } from './ProblemBanner';
import { ShareButton } from './ShareDialog';

interface ChatViewProps {
  readonly api: ApiClient;
  /** The conversation in the URL; undefined for a new chat. */
  readonly conversationId: string | undefined;
  readonly title: string | undefined;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
  /** The server created a conversation for the first message. */
  readonly onConversationStarted: (conversationId: string, firstMessage: string) => void;
  /** An answer finished (or stopped) in this conversation: its title or order may have changed. */
  readonly onTurnFinished: (conversationId: string) => void;
  /** The conversation in the URL does not exist (deleted, or someone else's). */
  readonly onNotFound: () => void;
}

interface ShownProblem {
  readonly problem: Problem;
  readonly retryAt: number | undefined;
  readonly retry: (() => void) | undefined;
}

const SUGGESTIONS = [
  'Explain how HTTP streaming works, with a short example.',
  'Write a TypeScript function that debounces another function.',
  'Summarise the main ideas of event-driven architecture.',
];

let keySequence = 0;
const nextKey = () => `m${++keySequence}`;

function fromStored(messages: readonly StoredMessage[]): UiMessage[] {
  const shown: UiMessage[] = [];
  for (const message of messages) {
    if (message.role !== 'user' && message.role !== 'assistant') continue;
    const status: UiMessageStatus =
      message.role === 'user' || message.status === 'complete'
        ? 'complete'
        : message.status === 'generating'
          ? 'streaming'
          : message.status;
    shown.push({
      key: message.id,
      id: message.id,
      role: message.role,
      content: message.content,
      status,
      ...(message.citations ? { citations: message.citations } : {}),
      messageId: message.id,
      ...(message.feedback ? { feedback: message.feedback } : {}),
    });
  }
  return shown;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** One conversation: its messages, the streamed answer, the composer, and what went wrong. */
export function ChatView(props: ChatViewProps) {
  const { api } = props;
  const [messages, setMessages] = useState<UiMessage[]>([]);
  const [loading, setLoading] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const [draft, setDraft] = useState(() => loadDraft(props.conversationId));
  const [shownProblem, setShownProblem] = useState<ShownProblem | undefined>(undefined);
  const [blockedUntil, setBlockedUntil] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  // The title from the server, for a conversation not (yet) in the loaded pages of the list.
  const [loadedTitle, setLoadedTitle] = useState<string | undefined>(undefined);
  const activeId = useRef<string | undefined>(props.conversationId);
  const abort = useRef<AbortController | undefined>(undefined);
  // The streaming answer's stored id: Stop asks the server to end it (leaving the page does not).
  const answerId = useRef<string | undefined>(undefined);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const mounted = useRef(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const wasSidebarOpen = useRef(props.sidebarOpen);
  const files = useAttachments(api);
  const modelChoice = useModelChoice(api);
  const branching = useBranching({
    api,
    conversationId: activeId,
    onBranchShown: (branch) => setMessages(fromStored(branch)),
    onProblem: (error) =>
      setShownProblem({ problem: describeProblem(error), retryAt: undefined, retry: undefined }),
  });
  const resetBranches = branching.reset;
  const refreshBranches = branching.refresh;

  // When the drawer closes, focus returns to the button that opened it.
  useEffect(() => {
    if (wasSidebarOpen.current && !props.sidebarOpen) {
      const active = document.activeElement;
      if (!active || active === document.body || active.closest('#sidebar')) menuButton.current?.focus();
    }
    wasSidebarOpen.current = props.sidebarOpen;
  }, [props.sidebarOpen]);
  const { onConversationStarted, onTurnFinished, onNotFound } = props;

  // Follow the URL: open another conversation, or start a new one.
  useEffect(() => {
    if (mounted.current && props.conversationId === activeId.current) return;
    mounted.current = true;
    abort.current?.abort();
    activeId.current = props.conversationId;
    setDraft(loadDraft(props.conversationId));
    setShownProblem(undefined);
    setMessages([]);
    resetBranches(undefined);
    setLoadedTitle(undefined);
    stickToBottom.current = true;
    const id = props.conversationId;
    if (id === undefined) return;
    const controller = new AbortController();
    const load = () => {
      setLoading(true);
      setShownProblem(undefined);
      api
        .getConversation(id, controller.signal)
        .then((conversation) => {
          const branch = activeBranch(conversation);
          setMessages(fromStored(branch));
          resetBranches(conversation);
          setLoadedTitle(conversation.title);
          const last = branch.at(-1);
          if (last?.role === 'assistant' && last.status === 'generating') follow(id, last.id);
        })
        .catch((error: unknown) => {
          if (isAbort(error) || error instanceof SessionExpiredError) return;
          const problem = describeProblem(error);
          if (problem.kind === 'not_found') onNotFound();
          setShownProblem({ problem, retryAt: undefined, retry: problem.retryable ? load : undefined });
        })
        .finally(() => {
          if (!controller.signal.aborted) setLoading(false);
        });
    };
    // An answer still generating (started before a reload, or in another tab) is followed to its end.
    const follow = (conversationId: string, messageId: string) => {
      const following = new AbortController();
      abort.current = following;
      answerId.current = messageId;
      controller.signal.addEventListener('abort', () => following.abort(), { once: true });
      setStreaming(true);
      const show = (content: string, status: UiMessageStatus) =>
        setMessages((current) =>
          current.map((message) => (message.key === messageId ? { ...message, content, status } : message)),
        );
      api
        .reattach(conversationId, messageId, {
          signal: following.signal,
          onUpdate: (state) => show(state.content, 'streaming'),
        })
        .then(async (result) => {
          if (following.signal.aborted) return show(result.content, 'stopped');
          // The stream ends the same way for a finished and a stopped answer: the store says which it was.
          const stored = (await refreshBranches(conversationId))?.messages.find(
            (one) => one.id === messageId,
          );
          show(result.content, stored?.status === 'interrupted' ? 'interrupted' : 'complete');
        })
        .catch(() => undefined)
        .finally(() => {
          if (abort.current === following) abort.current = undefined;
          answerId.current = undefined;
          setStreaming(false);
        });
    };
    load();
    return () => controller.abort();
  }, [props.conversationId, api, onNotFound, resetBranches, refreshBranches]);

  // Keep the newest text in view while it streams, unless the reader scrolled up.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [messages]);

  const updateDraft = (value: string) => {
    setDraft(value);
    saveDraft(activeId.current, value);
  };

  const send = useCallback(
    async (
      text: string,
      regenerate: boolean,
      attached: readonly AttachedFile[] = [],
      edit?: QuestionEdit,
    ) => {
      if (abort.current || text.trim() === '' || Date.now() < blockedUntil) return;
      const assistantKey = nextKey();
      const userMessage: UiMessage = {
        key: nextKey(),
        role: 'user',
        content: text,
        status: 'complete',
        ...(attached.length > 0 ? { files: attached } : {}),
      };
      const placeholder: UiMessage = {
        key: assistantKey,
        role: 'assistant',
        content: '',
        status: 'streaming',
      };
      // What the new turn replaces on screen: the answer regenerated, or an edited question and what followed it.
      let removed: UiMessage[] = [];
      setMessages((current) => {
        const base = [...current];
        const from = edit ? base.findIndex((message) => message.key === edit.fromKey) : -1;
        if (from >= 0) removed = base.splice(from);
        else if (regenerate && base.at(-1)?.role === 'assistant') removed = base.splice(-1);
        return regenerate ? [...base, placeholder] : [...base, userMessage, placeholder];
      });
      if (!regenerate && !edit) {
        setDraft('');
        saveDraft(activeId.current, '');
      }
      setShownProblem(undefined);
      setAnnouncement('');
      stickToBottom.current = true;
      const controller = new AbortController();
      abort.current = controller;
      setStreaming(true);

      const setAssistant = (content: string, status: UiMessageStatus) =>
        setMessages((current) =>
          current.map((message) =>
            message.key === assistantKey ? { ...message, content, status } : message,
          ),
        );
      let announced = 0;
      const announce = (content: string, final: boolean) => {
        const sentence = announceableText(content, announced, final);
        if (sentence.trim() === '') return;
        announced += sentence.length;
        setAnnouncement(sentence);
      };
      // Render at most once per frame however fast tokens arrive.
      let latest: StreamState | undefined;
      let frame = 0;
      const onUpdate = (state: StreamState) => {
        latest = state;
        if (state.conversationId && activeId.current === undefined) {
          activeId.current = state.conversationId;
          onConversationStarted(state.conversationId, text);
        }
        if (frame === 0) {
          frame = requestAnimationFrame(() => {
            frame = 0;
            if (latest) {
              setAssistant(latest.content, 'streaming');
              announce(latest.content, false);
            }
          });
        }
      };

      const requestedIn = activeId.current;
      let storedAnswerId: string | undefined;
      try {
        const result = await api.chat({
          content: text,
          // The server answers its stored question again, beside the stored answer: no duplicate turn.
          regenerate,
          fileIds: attached.map((file) => file.id),
          ...(modelChoice.model === undefined ? {} : { model: modelChoice.model }),
          signal: controller.signal,
          onUpdate,
          onMessageId: (messageId) => {
            answerId.current = messageId;
            storedAnswerId = messageId;
            setMessages((current) =>
              current.map((message) =>
                message.key === assistantKey ? { ...message, id: messageId } : message,
              ),
            );
          },
          ...(requestedIn === undefined ? {} : { conversationId: requestedIn }),
          ...(edit ? { parentMessageId: edit.parentMessageId } : {}),
        });
        cancelAnimationFrame(frame);
        if (result.conversationId && activeId.current === undefined) {
          activeId.current = result.conversationId;
          onConversationStarted(result.conversationId, text);
        }
        const status: UiMessageStatus = controller.signal.aborted
          ? 'stopped'
          : result.finishReason === 'length'
            ? 'length'
            : result.finishReason === 'content_filter'
              ? 'content_filter'
              : result.finishReason === null
                ? 'interrupted'
                : 'complete';
        setAssistant(result.content, status);
        const citations = result.citations;
        const messageId = answerId.current;
        if (messageId) setMessages((current) => withMessageId(current, assistantKey, messageId));
        if (citations)
          setMessages((current) =>
            current.map((message) => (message.key === assistantKey ? { ...message, citations } : message)),
          );
        announce(result.content, true);
        if (status === 'stopped') setAnnouncement('Stopped.');
      } catch (error) {
        cancelAnimationFrame(frame);
        if (isAbort(error)) {
          setAssistant(latest?.content ?? '', 'stopped');
          setAnnouncement('Stopped.');
        } else if (error instanceof StreamInterruptedError) {
          const filtered = error.reason instanceof ApiRequestError && error.reason.code === 'content_filter';
          setAssistant(error.partial.content, filtered ? 'content_filter' : 'interrupted');
          if (!filtered) {
            const problem = describeProblem(error.reason);
            setShownProblem({
              problem,
              retryAt: undefined,
              retry: () => void send(text, true),
            });
          }
        } else {
          // Nothing was answered: take the message back into the composer, so no typing is ever lost.
          setMessages((current) => {
            const kept = current.filter((message) => message.key !== assistantKey && message !== userMessage);
            return [...kept, ...removed];
          });
          if (!regenerate) {
            setDraft((current) => (current === '' ? text : current));
            if (loadDraft(activeId.current) === '') saveDraft(activeId.current, text);
          }
          if (!(error instanceof SessionExpiredError)) {
            const problem = describeProblem(error);
            const retryAt =
              problem.retryAfterSeconds === undefined
                ? undefined
                : Date.now() + problem.retryAfterSeconds * 1000;
            if (problem.kind === 'rate_limit' && retryAt !== undefined) setBlockedUntil(retryAt);
            setShownProblem({
              problem,
              retryAt,
              retry: problem.retryable ? () => void send(text, regenerate) : undefined,
            });
          }
        }
      } finally {
        abort.current = undefined;
        answerId.current = undefined;
        setStreaming(false);
        if (activeId.current) onTurnFinished(activeId.current);
        // The stored tree gives the new messages their ids and siblings (a regenerated answer's `‹ 2/2 ›`).
        if (activeId.current && storedAnswerId)
          void branching.refresh(activeId.current).then((tree) => {
            if (tree) setMessages((current) => withStoredIds(current, tree));
          });
      }
    },
    [api, blockedUntil, onConversationStarted, onTurnFinished, branching.refresh, modelChoice.model],
  );

  // Sending resumes by itself when a rate-limit wait ends.
  useEffect(() => {
    const wait = blockedUntil - Date.now();
    if (wait <= 0) return;
    const timer = window.setTimeout(() => setBlockedUntil(0), wait);
    return () => window.clearTimeout(timer);
  }, [blockedUntil]);

  const lastUserText = [...messages].reverse().find((message) => message.role === 'user')?.content;
  const last = messages.at(-1);
  const canRegenerate = !streaming && last?.role === 'assistant' && lastUserText !== undefined;
  const empty = messages.length === 0 && !loading;

  return (
    // Behind the open drawer (phone width) the chat is out of reach of keyboard and screen reader.
    <main class="chat" id="main" aria-labelledby="chat-title" inert={props.sidebarOpen}>
      <PageHead
        title={props.title ?? loadedTitle ?? (props.conversationId ? 'Conversation' : 'New chat')}
        titleId="chat-title"
        sidebarOpen={props.sidebarOpen}
        onOpenSidebar={props.onOpenSidebar}
        menuButtonRef={menuButton}
        actions={
          <>
            <ModelPicker choice={modelChoice} disabled={streaming} />
            {props.conversationId && <ShareButton api={api} conversationId={props.conversationId} />}
          </>
        }
      />

      <div
        ref={scroller}
        class="messages"
        onScroll={(event) => {
          const element = event.currentTarget;
          stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
        }}
      >
        <section class="messages-inner" aria-label="Messages" aria-busy={loading || streaming}>
          {loading && (
            <p class="loading" role="status">
              Loading conversation…
            </p>
          )}
          {empty && (
            <div class="welcome">
              <span class="welcome-mark" aria-hidden="true">
                <Icon name="spark" size={28} />
              </span>
              <h2>How can I help today?</h2>
              <ul class="suggestions" aria-label="Suggestions">
                {SUGGESTIONS.map((suggestion) => (
                  <li key={suggestion}>
                    <button type="button" class="suggestion" onClick={() => updateDraft(suggestion)}>
                      {suggestion}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {messages.map((message) =>
            message.key === branching.editing ? (
              branching.editorFor(message, (text, edit) => void send(text, false, [], edit))
            ) : (
              <MessageView
                key={message.key}
                message={message}
                canRegenerate={canRegenerate && message === last}
                onRegenerate={() => {
                  if (lastUserText !== undefined) void send(lastUserText, true);
                }}
                branchTools={branching.toolsFor(message, streaming)}
                feedback={feedbackFor(api, activeId.current, message)}
              />
            ),
          )}
        </section>
      </div>

      {/* Streamed text is read out politely, a sentence at a time. */}
      <div class="sr-only" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {announcement}
      </div>

      <div class="composer-area">
        {shownProblem && (
          <ProblemBanner
            problem={shownProblem.problem}
            retryAt={shownProblem.retryAt}
            onRetry={shownProblem.retry}
            onDismiss={() => setShownProblem(undefined)}
          />
        )}
        <Composer
          value={draft}
          streaming={streaming}
          blocked={Date.now() < blockedUntil || files.busy}
          focusKey={props.conversationId ?? 'new'}
          onChange={updateDraft}
          onSend={() => void send(draft, false, files.take())}
          onFiles={files.add}
          above={<AttachmentChips attachments={files.attachments} onRemove={files.remove} />}
          before={<AttachButton onFiles={files.add} disabled={streaming} />}
          onStop={() => {
            // The answer runs on without this page: Stop asks the server to end it, then stops reading.
            const conversationId = activeId.current;
            const messageId = answerId.current;
            if (conversationId && messageId)
              void api.stopAnswer(conversationId, messageId).catch(() => undefined);
            abort.current?.abort();
          }}
        />
      </div>
    </main>
  );
}
