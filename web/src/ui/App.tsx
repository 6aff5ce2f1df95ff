import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { isAdminToken } from '../admin-api';
import type { ApiClient, ConversationSummary } from '../api';
import type { Auth, Session } from '../auth';
import { download, waitForExport } from '../data-export';
import { clearDrafts } from '../drafts';
import { describeProblem, type Problem } from '../errors';
import { conversationIdFromPath, PAGE_PATHS, type Page, pageFromPath, pathForConversation } from '../route';
import { AdminPage } from './AdminPage';
import { ApiKeysPage } from './ApiKeysPage';
import { ChatView } from './ChatView';
import { ConfirmDialog } from './ConfirmDialog';
import { DocsPage } from './DocsPage';
import { FilesDialog } from './FilesDialog';
import { SearchBox } from './SearchBox';
import { SettingsPage } from './SettingsPage';
import { Sidebar } from './Sidebar';
import { SignIn } from './SignIn';
import { useFindActions } from './useFindActions';

interface AppProps {
  readonly auth: Auth;
  readonly api: ApiClient;
  /** The API's base URL without `/v1` (for the API keys page and the API reference). */
  readonly apiBaseUrl: string;
  /** Set when the redirect back from the issuer failed. */
  readonly signInError?: string;
}

type Confirmation = { kind: 'conversation'; conversation: ConversationSummary } | { kind: 'account' };

const PAGE_SIZE = 20;

function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New chat';
}

export function App({ auth, api, apiBaseUrl, signInError }: AppProps) {
  const [session, setSession] = useState<Session | undefined>(auth.current);
  const [expired, setExpired] = useState(false);
  const [conversationId, setConversationId] = useState(() => conversationIdFromPath(location.pathname));
  const [page, setPage] = useState<Page>(() => pageFromPath(location.pathname));
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [listLoading, setListLoading] = useState(false);
  const [listProblem, setListProblem] = useState<Problem | undefined>(undefined);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [confirmation, setConfirmation] = useState<Confirmation | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [filesOpen, setFilesOpen] = useState(false);
  const [toast, setToast] = useState('');
  const toastTimer = useRef(0);
  const signingOut = useRef(false);

  const notify = useCallback((message: string) => {
    setToast(message);
    window.clearTimeout(toastTimer.current);
    toastTimer.current = window.setTimeout(() => setToast(''), 4000);
  }, []);

  useEffect(() => {
    const sync = (next: Session | undefined) =>
      setSession((previous) => {
        if (previous && !next && !signingOut.current) setExpired(true);
        return next;
      });
    const unsubscribe = auth.onChange(sync);
    // The session may have ended between the first render and this subscription.
    sync(auth.current);
    return unsubscribe;
  }, [auth]);

  useEffect(() => {
    const onPopState = () => {
      setConversationId(conversationIdFromPath(location.pathname));
      setPage(pageFromPath(location.pathname));
    };
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  const closeSidebar = useCallback(() => setSidebarOpen(false), []);

  const navigate = useCallback((id: string | undefined, replace = false) => {
    const path = pathForConversation(id);
    if (location.pathname !== path) {
      if (replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    setConversationId(id);
    setPage('chat');
    setSidebarOpen(false);
  }, []);

  const openPage = useCallback((next: Exclude<Page, 'chat'>, path: string) => {
    if (location.pathname !== path) history.pushState(null, '', path);
    setPage(next);
    setSidebarOpen(false);
  }, []);

  const loadPage = useCallback(
    async (cursor: string | null) => {
      setListLoading(true);
      setListProblem(undefined);
      try {
        const page = await api.listConversations(cursor, PAGE_SIZE);
        setConversations((current) => {
          const fresh =
            cursor === null ? [] : current.filter((item) => !page.data.some((p) => p.id === item.id));
          return [...fresh, ...page.data];
        });
        setNextCursor(page.next_cursor);
      } catch (error) {
        setListProblem(describeProblem(error));
      } finally {
        setListLoading(false);
      }
    },
    [api],
  );

  const signedIn = session !== undefined;
  useEffect(() => {
    if (signedIn) void loadPage(null);
  }, [signedIn, loadPage]);

  const current = conversations.find((conversation) => conversation.id === conversationId);
  useEffect(() => {
    if (page === 'chat') document.title = current ? `${current.title} · chatstack` : 'chatstack';
  }, [current, page]);

  const find = useFindActions(api, setConversations, notify, () => loadPage(null));

  const onConversationStarted = useCallback(
    (id: string, firstMessage: string) => {
      find.expectTitle(id);
      const now = new Date().toISOString();
      setConversations((list) =>
        list.some((item) => item.id === id)
          ? list
          : [{ id, title: titleFrom(firstMessage), created_at: now, updated_at: now }, ...list],
      );
      navigate(id, true);
    },
    [navigate],
  );

  // After each answer: the server may have titled the conversation, and it is now the most recent.
  const onTurnFinished = useCallback(
    (id: string) => {
      setConversations((list) => {
        const item = list.find((conversation) => conversation.id === id);
        return item
          ? [{ ...item, updated_at: new Date().toISOString() }, ...list.filter((c) => c !== item)]
          : list;
      });
      void loadPage(null);
      find.watchTitle(id);
    },
    [loadPage, find],
  );

  const onNotFound = useCallback(() => {
    setConversations((list) => list.filter((conversation) => conversation.id !== conversationId));
  }, [conversationId]);

  const rename = async (id: string, title: string): Promise<boolean> => {
    find.stopWatching(id);
    try {
      await api.renameConversation(id, title);
      setConversations((list) => list.map((c) => (c.id === id ? { ...c, title } : c)));
      notify('Conversation renamed.');
      return true;
    } catch (error) {
      notify(`Rename failed: ${describeProblem(error).detail}`);
      return false;
    }
  };

  const confirm = async () => {
    if (!confirmation) return;
    setBusy(true);
    try {
      if (confirmation.kind === 'conversation') {
        const { id } = confirmation.conversation;
        await api.deleteConversation(id);
        setConversations((list) => list.filter((c) => c.id !== id));
        if (id === conversationId) navigate(undefined);
        notify('Conversation deleted.');
      } else {
        await api.deleteAllData();
        setConversations([]);
        setNextCursor(null);
        navigate(undefined);
        notify('All your data was deleted.');
      }
      setConfirmation(undefined);
    } catch (error) {
      notify(`That did not work: ${describeProblem(error).detail}`);
    } finally {
      setBusy(false);
    }
  };

  const exportData = async () => {
    try {
      notify('Preparing your export…');
      download(await waitForExport(api));
      notify('Your data was exported.');
    } catch (error) {
      notify(`Export failed: ${describeProblem(error).detail}`);
    }
  };

  if (!session) {
    return (
      <SignIn
        expired={expired}
        error={signInError}
        onSignIn={() => auth.signIn(`${location.pathname}${location.search}`)}
      />
    );
  }

  return (
    <div class={sidebarOpen ? 'shell sidebar-visible' : 'shell'}>
      <a class="skip-link" href="#composer-input">
        Skip to message box
      </a>
      <Sidebar
        conversations={conversations}
        currentId={conversationId}
        hasMore={nextCursor !== null}
        loading={listLoading}
        listProblem={listProblem}
        open={sidebarOpen}
        userName={session.displayName}
        onNavigate={(id) => navigate(id)}
        onLoadMore={() => {
          if (nextCursor !== null && !listLoading) void loadPage(nextCursor);
        }}
        onRetryList={() => void loadPage(null)}
        onRename={rename}
        onDelete={(conversation) => setConfirmation({ kind: 'conversation', conversation })}
        onPin={find.pin}
        search={<SearchBox api={api} onOpen={(id) => navigate(id)} />}
        onOpenSettings={() => openPage('settings', PAGE_PATHS.settings)}
        onExport={() => void exportData()}
        onOpenApiKeys={() => openPage('keys', PAGE_PATHS.keys)}
        onOpenDocs={() => openPage('docs', PAGE_PATHS.docs)}
        onOpenAdmin={
          isAdminToken(session.accessToken) ? () => openPage('admin', PAGE_PATHS.admin) : undefined
        }
        onOpenFiles={() => setFilesOpen(true)}
        onDeleteAccountData={() => setConfirmation({ kind: 'account' })}
        onSignOut={() => {
          signingOut.current = true;
          clearDrafts();
          void auth.signOut();
        }}
        onClose={closeSidebar}
      />
      {sidebarOpen && <div class="backdrop" aria-hidden="true" onClick={() => setSidebarOpen(false)} />}
      {page === 'keys' && (
        <ApiKeysPage
          api={api}
          apiBaseUrl={apiBaseUrl}
          sidebarOpen={sidebarOpen}
          onOpenSidebar={() => setSidebarOpen(true)}
          notify={notify}
        />
      )}
      {page === 'admin' && isAdminToken(session.accessToken) && (
        <AdminPage
          api={api}
          sidebarOpen={sidebarOpen}
          onOpenSidebar={() => setSidebarOpen(true)}
          notify={notify}
        />
      )}
      {page === 'settings' && (
        <SettingsPage
          api={api}
          sidebarOpen={sidebarOpen}
          onOpenSidebar={() => setSidebarOpen(true)}
          notify={notify}
        />
      )}
      {page === 'docs' && (
        <DocsPage
          auth={auth}
          apiBaseUrl={apiBaseUrl}
          sidebarOpen={sidebarOpen}
          onOpenSidebar={() => setSidebarOpen(true)}
        />
      )}
      {page === 'chat' && (
        <ChatView
          api={api}
          conversationId={conversationId}
          title={current?.title}
          sidebarOpen={sidebarOpen}
          onOpenSidebar={() => setSidebarOpen(true)}
          onConversationStarted={onConversationStarted}
          onTurnFinished={onTurnFinished}
          onNotFound={onNotFound}
        />
      )}
      <FilesDialog open={filesOpen} api={api} notify={notify} onClose={() => setFilesOpen(false)} />
      <ConfirmDialog
        open={confirmation !== undefined}
        title={confirmation?.kind === 'account' ? 'Delete all your data?' : 'Delete this conversation?'}
        body={
          confirmation?.kind === 'account'
            ? 'Every conversation, message and usage record of yours is erased for good. Export your data first if you want a copy.'
            : `“${confirmation?.kind === 'conversation' ? confirmation.conversation.title : ''}” and its messages are deleted for good.`
        }
        confirmLabel={confirmation?.kind === 'account' ? 'Delete everything' : 'Delete'}
        danger
        busy={busy}
        onConfirm={() => void confirm()}
        onCancel={() => setConfirmation(undefined)}
      />
      <div class="toast-region" role="status" aria-live="polite">
        {toast && <p class="toast">{toast}</p>}
      </div>
    </div>
  );
}
