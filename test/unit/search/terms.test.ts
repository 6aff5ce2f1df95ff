import { describe, expect, it } from 'vitest';
import {
  distinctTerms,
  foldWord,
  highlightsIn,
  queryTerms,
  SEARCH_LIMITS,
  snippetAround,
} from '../../../lambdas/search/terms';

describe('search words', () => {
  it('fold case and accents, so “Crème BRÛLÉE” finds “creme brulee”', () => {
    expect(foldWord('Crème')).toBe('creme');
    expect(distinctTerms('Crème BRÛLÉE, crème!').map((word) => word.term)).toEqual(['creme', 'brulee']);
  });

  it('leave out common words and single letters but keep their offsets in the text', () => {
    const text = 'The cat and a dog';
    const terms = distinctTerms(text);
    expect(terms.map((word) => word.term)).toEqual(['cat', 'dog']);
    expect(terms.map((word) => text.slice(word.start, word.end))).toEqual(['cat', 'dog']);
  });

  it('bound the words one text adds to the index', () => {
    const text = Array.from({ length: 500 }, (_, index) => `word${index}`).join(' ');
    expect(distinctTerms(text)).toHaveLength(SEARCH_LIMITS.maxTermsPerText);
  });

  it('match the last query word as a prefix while it is typed, the others whole', () => {
    expect(queryTerms('kubernetes depl')).toEqual([
      { term: 'kubernetes', prefix: false },
      { term: 'depl', prefix: true },
    ]);
    expect(queryTerms('kubernetes deploy ')).toEqual([
      { term: 'kubernetes', prefix: false },
      { term: 'deploy', prefix: false },
    ]);
    expect(queryTerms('ab')).toEqual([{ term: 'ab', prefix: false }]);
  });

  it('search stop words only when the query has nothing else', () => {
    expect(queryTerms('the cat').map((query) => query.term)).toEqual(['cat']);
    expect(queryTerms('the').map((query) => query.term)).toEqual(['the']);
    expect(queryTerms('a ! ?')).toEqual([]);
  });
});

describe('snippets', () => {
  const long = `${'lead '.repeat(60)}the needle is here ${'tail '.repeat(60)}`;

  it('keep the words around the match, cut at spaces, marked where cut', () => {
    const start = long.indexOf('needle');
    const snippet = snippetAround(long, start, start + 'needle'.length);
    expect(snippet.startsWith('…lead ')).toBe(true);
    expect(snippet.endsWith(' tail…')).toBe(true);
    expect(snippet).toContain('the needle is here');
    expect(snippet.length).toBeLessThanOrEqual(SEARCH_LIMITS.snippetChars + 2);
  });

  it('collapse newlines so a snippet is one line', () => {
    expect(snippetAround('first\n\nsecond line', 7, 13)).toBe('first second line');
  });

  it('give highlight offsets that cut out exactly the matched words, markup left as text', () => {
    const snippet = 'Use <b>Kubernetes</b> and kubectl, not kube-proxy';
    const highlights = highlightsIn(snippet, [{ term: 'kube', prefix: true }]);
    expect(highlights.map(({ start, end }) => snippet.slice(start, end))).toEqual([
      'Kubernetes',
      'kubectl',
      'kube',
    ]);
    expect(
      highlightsIn(snippet, [{ term: 'kube', prefix: false }]).map(({ start, end }) =>
        snippet.slice(start, end),
      ),
    ).toEqual(['kube']);
  });
});
