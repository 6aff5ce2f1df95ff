/** The URL holds the open conversation: `/c/<conversation id>`; `/` is a new chat. */
const CONVERSATION_PATH = /^\/c\/([A-Za-z0-9_-]{1,100})\/?$/;

export function conversationIdFromPath(pathname: string): string | undefined {
  return CONVERSATION_PATH.exec(pathname)?.[1];
}

export function pathForConversation(conversationId: string | undefined): string {
  return conversationId ? `/c/${encodeURIComponent(conversationId)}` : '/';
}

/** The app's pages besides chat: personal API keys and the API reference. */
export type Page = 'chat' | 'keys' | 'docs' | 'admin' | 'settings';
export const PAGE_PATHS = { keys: '/keys', docs: '/docs', admin: '/admin', settings: '/settings' } as const;

export function pageFromPath(pathname: string): Page {
  const path = pathname.replace(/\/+$/, '');
  if (path === PAGE_PATHS.keys) return 'keys';
  if (path === PAGE_PATHS.docs) return 'docs';
  if (path === PAGE_PATHS.admin) return 'admin';
  if (path === PAGE_PATHS.settings) return 'settings';
  return 'chat';
}
