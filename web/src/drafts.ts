/**
 * What is typed in the composer survives a reload and a re-login: it is kept in sessionStorage per
 * conversation (`new` for a chat not yet started).
 */
const PREFIX = 'chatstack.draft.';

function key(conversationId: string | undefined): string {
  return `${PREFIX}${conversationId ?? 'new'}`;
}

export function loadDraft(conversationId: string | undefined): string {
  try {
    return sessionStorage.getItem(key(conversationId)) ?? '';
  } catch {
    return '';
  }
}

export function saveDraft(conversationId: string | undefined, text: string): void {
  try {
    if (text === '') sessionStorage.removeItem(key(conversationId));
    else sessionStorage.setItem(key(conversationId), text);
  } catch {
    // Storage full or disabled: the draft lives only in the page.
  }
}

/** Forgets every draft (on sign-out: the next person at this browser must not see them). */
export function clearDrafts(): void {
  try {
    for (const key of Object.keys(sessionStorage)) if (key.startsWith(PREFIX)) sessionStorage.removeItem(key);
  } catch {
    // Storage disabled: nothing was kept.
  }
}
