/**
 * Search, pins, titles and settings calls of the chat app, over the `ApiClient`'s authenticated request (same
 * tokens, retries and errors as every other call).
 */
import type { ApiClient, ConversationSummary } from './api';

/** Where a search matched: plain text and UTF-16 offsets (the server never sends HTML). */
export interface SearchSnippet {
  readonly text: string;
  readonly highlights: readonly { readonly start: number; readonly end: number }[];
  readonly source: 'title' | 'message';
}

export interface SearchHit extends ConversationSummary {
  readonly snippet: SearchSnippet;
}

export interface UserSettings {
  readonly custom_instructions: string;
  readonly default_model: string | null;
}

async function json<T>(api: ApiClient, path: string, init?: RequestInit): Promise<T> {
  return (await (await api.request(path, init)).json()) as T;
}

export async function searchConversations(
  api: ApiClient,
  q: string,
  signal?: AbortSignal,
): Promise<readonly SearchHit[]> {
  const query = new URLSearchParams({ q, limit: '20' });
  const page = await json<{ data: SearchHit[] }>(api, `/conversations?${query}`, signal ? { signal } : {});
  return page.data;
}

export function setPinned(api: ApiClient, id: string, pinned: boolean): Promise<ConversationSummary> {
  return json(api, `/conversations/${encodeURIComponent(id)}`, {
    method: 'PATCH',
    body: JSON.stringify({ pinned }),
  });
}

export function getSettings(api: ApiClient): Promise<UserSettings> {
  return json(api, '/me/settings');
}

export function saveSettings(api: ApiClient, settings: UserSettings): Promise<UserSettings> {
  return json(api, '/me/settings', { method: 'PUT', body: JSON.stringify(settings) });
}

export async function listModelIds(api: ApiClient): Promise<readonly string[]> {
  return (await json<{ data: { id: string }[] }>(api, '/models')).data.map((model) => model.id);
}

/** A conversation's title as the list shows it now (the first page: a new conversation is there). */
export async function currentTitle(api: ApiClient, id: string): Promise<string | undefined> {
  return (await api.listConversations(null, 20)).data.find((item) => item.id === id)?.title;
}

/**
 * The snippet cut into plain pieces and highlighted ones, in order. Offsets are clamped to the text and
 * overlapping or reversed ones skipped, so a wrong offset can never do more than highlight less.
 */
export function highlightSegments(
  snippet: Pick<SearchSnippet, 'text' | 'highlights'>,
): { readonly text: string; readonly marked: boolean }[] {
  const segments: { text: string; marked: boolean }[] = [];
  let at = 0;
  const ranges = [...snippet.highlights].sort((a, b) => a.start - b.start);
  for (const { start, end } of ranges) {
    const from = Math.max(at, Math.min(start, snippet.text.length));
    const to = Math.min(end, snippet.text.length);
    if (to <= from) continue;
    if (from > at) segments.push({ text: snippet.text.slice(at, from), marked: false });
    segments.push({ text: snippet.text.slice(from, to), marked: true });
    at = to;
  }
  if (at < snippet.text.length) segments.push({ text: snippet.text.slice(at), marked: false });
  return segments;
}
