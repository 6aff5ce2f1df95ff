// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { clearDrafts, loadDraft, saveDraft } from '../../../web/src/drafts';

describe('drafts', () => {
  beforeEach(() => sessionStorage.clear());

  it('keeps a draft per conversation, and one for a new chat', () => {
    saveDraft(undefined, 'first words');
    saveDraft('conv_a', 'a reply in progress');

    expect(loadDraft(undefined)).toBe('first words');
    expect(loadDraft('conv_a')).toBe('a reply in progress');
    expect(loadDraft('conv_b')).toBe('');
  });

  it('forgets a draft when it is emptied, and all drafts on sign-out', () => {
    saveDraft('conv_a', 'text');
    saveDraft('conv_a', '');
    expect(loadDraft('conv_a')).toBe('');

    saveDraft(undefined, 'one');
    saveDraft('conv_b', 'two');
    sessionStorage.setItem('chatstack.session', 'kept');
    clearDrafts();

    expect(loadDraft(undefined)).toBe('');
    expect(loadDraft('conv_b')).toBe('');
    expect(sessionStorage.getItem('chatstack.session')).toBe('kept');
  });
});
