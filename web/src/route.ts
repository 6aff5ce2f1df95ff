/** The URL holds the open conversation: `/c/<conversation id>`; `/` is a new chat. */
const CONVERSATION_PATH = /^\/c\/([A-Za-z0-9_-]{1,100})\/?$/;

export function conversationIdFromPath(pathname: string): string | undefined {
  return CONVERSATION_PATH.exec(pathname)?.[1];
}

export function pathForConversation(conversationId: string | undefined): string {
  return conversationId ? `/c/${encodeURIComponent(conversationId)}` : '/';
}
