import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ConversationSummary } from '../api';
import type { Problem } from '../errors';
import { pathForConversation } from '../route';
import { Icon } from './Icon';
import { PinButton } from './PinButton';

interface SidebarProps {
  readonly conversations: readonly ConversationSummary[];
  readonly currentId: string | undefined;
  readonly hasMore: boolean;
  readonly loading: boolean;
  readonly listProblem: Problem | undefined;
  readonly open: boolean;
  readonly userName: string;
  readonly onNavigate: (conversationId: string | undefined) => void;
  readonly onLoadMore: () => void;
  readonly onRetryList: () => void;
  readonly onRename: (conversationId: string, title: string) => Promise<boolean>;
  readonly onDelete: (conversation: ConversationSummary) => void;
  readonly onPin: (conversation: ConversationSummary, pinned: boolean) => void;
  /** The search box (SearchBox), above the list. */
  readonly search?: ComponentChildren;
  readonly onOpenSettings: () => void;
  readonly onExport: () => void;
  readonly onOpenApiKeys: () => void;
  readonly onOpenDocs: () => void;
  /** Shown to administrators only (the `admin` group). */
  readonly onOpenAdmin?: (() => void) | undefined;
  readonly onOpenFiles: () => void;
  readonly onDeleteAccountData: () => void;
  readonly onSignOut: () => void;
  readonly onClose: () => void;
}

function RenameField({
  conversation,
  onDone,
  onRename,
}: {
  conversation: ConversationSummary;
  onDone: () => void;
  onRename: SidebarProps['onRename'];
}) {
  const input = useRef<HTMLInputElement>(null);
  const [value, setValue] = useState(conversation.title);
  const saving = useRef(false);

  // Focus in the same frame the field appears, so that fast typing never lands elsewhere.
  useLayoutEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  const save = async () => {
    if (saving.current) return;
    const title = value.trim();
    if (title === '' || title === conversation.title) {
      onDone();
      return;
    }
    saving.current = true;
    const ok = await onRename(conversation.id, title);
    saving.current = false;
    if (ok) onDone();
  };

  return (
    <form
      class="rename"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <input
        ref={input}
        class="rename-input"
        aria-label={`New title for “${conversation.title}”`}
        value={value}
        maxLength={200}
        onInput={(event) => setValue(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            onDone();
          }
        }}
        onBlur={() => void save()}
      />
    </form>
  );
}

/** The conversation list (newest first, paginated), new chat, and the account menu. */
export function Sidebar(props: SidebarProps) {
  const [renaming, setRenaming] = useState<string | undefined>(undefined);
  const [accountOpen, setAccountOpen] = useState(false);
  const moreSentinel = useRef<HTMLLIElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const { hasMore, loading, onLoadMore, open, onClose } = props;

  // As a drawer (phone width) it takes focus when it opens, and Escape closes it.
  useEffect(() => {
    if (!open) return;
    closeButton.current?.focus();
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [open, onClose]);

  // Escape closes the account menu first (and only it). A layout effect: the key works as soon as the menu shows.
  useLayoutEffect(() => {
    if (!accountOpen) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.stopImmediatePropagation();
      setAccountOpen(false);
    };
    document.addEventListener('keydown', onKeyDown, { capture: true });
    return () => document.removeEventListener('keydown', onKeyDown, { capture: true });
  }, [accountOpen]);

  const choose = (action: () => void) => () => {
    setAccountOpen(false);
    action();
  };

  // Loads the next page when the end of the list scrolls into view (the button remains for keyboards).
  useEffect(() => {
    const sentinel = moreSentinel.current;
    if (!sentinel || !hasMore || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !loading) onLoadMore();
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [hasMore, loading, onLoadMore]);

  return (
    <aside
      id="sidebar"
      class={props.open ? 'sidebar open' : 'sidebar'}
      aria-label="Conversations and account"
    >
      <div class="sidebar-head">
        <a
          class="brand"
          href="/"
          onClick={(event) => {
            event.preventDefault();
            props.onNavigate(undefined);
          }}
        >
          <span class="brand-mark" aria-hidden="true">
            <Icon name="spark" size={16} />
          </span>
          chatstack
        </a>
        <button
          ref={closeButton}
          type="button"
          class="icon-button only-mobile"
          aria-label="Close conversations"
          onClick={props.onClose}
        >
          <Icon name="close" />
        </button>
      </div>
      <button type="button" class="button primary new-chat" onClick={() => props.onNavigate(undefined)}>
        <Icon name="plus" /> New chat
      </button>

      {props.search}

      <nav class="conversation-nav" aria-label="Conversations">
        <h2 class="nav-heading">Recent</h2>
        {props.listProblem && (
          <div class="list-problem" role="alert">
            <p>{props.listProblem.detail}</p>
            <button type="button" class="button small" onClick={props.onRetryList}>
              Try again
            </button>
          </div>
        )}
        {!props.loading && !props.listProblem && props.conversations.length === 0 && (
          <p class="nav-empty">No conversations yet.</p>
        )}
        <ul class="conversation-list">
          {props.conversations.map((conversation) => {
            const current = conversation.id === props.currentId;
            return (
              <li
                key={conversation.id}
                class={`conversation${current ? ' current' : ''}${conversation.pinned ? ' pinned' : ''}`}
              >
                {renaming === conversation.id ? (
                  <RenameField
                    conversation={conversation}
                    onRename={props.onRename}
                    onDone={() => setRenaming(undefined)}
                  />
                ) : (
                  <>
                    <a
                      class="conversation-link"
                      href={pathForConversation(conversation.id)}
                      aria-current={current ? 'page' : undefined}
                      title={conversation.title}
                      onClick={(event) => {
                        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
                        event.preventDefault();
                        props.onNavigate(conversation.id);
                      }}
                    >
                      {conversation.title || 'Untitled'}
                    </a>
                    <span class="conversation-actions">
                      <PinButton conversation={conversation} onPin={props.onPin} />
                      <button
                        type="button"
                        class="icon-button small"
                        aria-label={`Rename “${conversation.title}”`}
                        title="Rename"
                        onClick={() => setRenaming(conversation.id)}
                      >
                        <Icon name="pencil" size={16} />
                      </button>
                      <button
                        type="button"
                        class="icon-button small"
                        aria-label={`Delete “${conversation.title}”`}
                        title="Delete"
                        onClick={() => props.onDelete(conversation)}
                      >
                        <Icon name="trash" size={16} />
                      </button>
                    </span>
                  </>
                )}
              </li>
            );
          })}
          {props.hasMore && (
            <li ref={moreSentinel} class="load-more">
              <button
                type="button"
                class="button small ghost"
                disabled={props.loading}
                onClick={props.onLoadMore}
              >
                {props.loading ? 'Loading…' : 'Load more'}
              </button>
            </li>
          )}
        </ul>
        {props.loading && props.conversations.length === 0 && (
          <p class="nav-empty" role="status">
            Loading conversations…
          </p>
        )}
      </nav>

      <div class="account">
        <button
          type="button"
          class="account-toggle"
          aria-expanded={accountOpen}
          aria-controls="account-menu"
          onClick={() => setAccountOpen(!accountOpen)}
        >
          <span class="avatar" aria-hidden="true">
            {props.userName.slice(0, 1).toUpperCase()}
          </span>
          <span class="account-name">{props.userName}</span>
          <Icon name="chevron" size={16} className="chevron" />
        </button>
        <div id="account-menu" class="account-menu" hidden={!accountOpen}>
          <button type="button" class="menu-item" onClick={choose(props.onOpenSettings)}>
            <Icon name="user" size={16} /> Settings
          </button>
          <button type="button" class="menu-item" onClick={choose(props.onOpenApiKeys)}>
            <Icon name="key" size={16} /> API keys
          </button>
          <button type="button" class="menu-item" onClick={choose(props.onOpenDocs)}>
            <Icon name="book" size={16} /> API reference
          </button>
          {props.onOpenAdmin && (
            <button type="button" class="menu-item" onClick={choose(props.onOpenAdmin)}>
              <Icon name="key" size={16} /> Admin console
            </button>
          )}
          <button type="button" class="menu-item" onClick={choose(props.onOpenFiles)}>
            <Icon name="file" size={16} /> My files
          </button>
          <button type="button" class="menu-item" onClick={choose(props.onExport)}>
            <Icon name="download" size={16} /> Export my data
          </button>
          <button type="button" class="menu-item danger-text" onClick={choose(props.onDeleteAccountData)}>
            <Icon name="trash" size={16} /> Delete my data…
          </button>
          <button type="button" class="menu-item" onClick={choose(props.onSignOut)}>
            <Icon name="logout" size={16} /> Sign out
          </button>
        </div>
      </div>
    </aside>
  );
}
