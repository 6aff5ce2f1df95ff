/**
 * Words as the search index knows them: letters and digits, case and accents folded, common English words left
 * out. One function cuts both the indexed text and the query, so they always agree.
 */

export const SEARCH_LIMITS = {
  /** Shortest word indexed or searched. */
  minTermChars: 2,
  /** Longer words are cut to this many characters (a query word matches on its first characters). */
  maxTermChars: 32,
  /** New words one message or title adds to the index at most: the write fan-out of one message. */
  maxTermsPerText: 100,
  /** Words one conversation has in the index at most (its word-set item stays well under 400 KB). */
  maxTermsPerConversation: 1000,
  /** Characters of text kept around a word as its snippet. */
  snippetChars: 160,
  /** Words of a query used (all must match, each as a word prefix). */
  maxQueryTerms: 5,
  /** A query's last word matches as a prefix (search as you type) from this length on; other words match whole. */
  minPrefixChars: 3,
  /** Index items read per query word at most: bounds a search's reads whatever the history's size. */
  maxItemsPerTerm: 3000,
} as const;

const STOP_WORDS = new Set(
  'an and are as at be but by do for from had has have he her his how if in is it its me my no not of on or our she so than that the their them then there these they this to too us was we were what when which who why will with you your'.split(
    ' ',
  ),
);

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower case, accents removed (NFKD, combining marks dropped), only letters and digits kept, cut to length. */
export function foldWord(word: string): string {
  return word
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '')
    .slice(0, SEARCH_LIMITS.maxTermChars);
}

/** A word of a text: its folded term and where it stands in the original text (UTF-16 offsets). */
export interface WordAt {
  readonly term: string;
  readonly start: number;
  readonly end: number;
}

/** Every word of `text`, in order, with its offsets (stop words and too-short words included: snippets need them). */
export function wordsOf(text: string): WordAt[] {
  const words: WordAt[] = [];
  for (const match of text.matchAll(WORD)) {
    const term = foldWord(match[0]);
    if (term !== '') words.push({ term, start: match.index, end: match.index + match[0].length });
  }
  return words;
}

function indexable(term: string): boolean {
  return term.length >= SEARCH_LIMITS.minTermChars && !STOP_WORDS.has(term);
}

/** The distinct indexable words of `text`, each at its first occurrence, at most `max` of them. */
export function distinctTerms(text: string, max: number = SEARCH_LIMITS.maxTermsPerText): WordAt[] {
  const seen = new Set<string>();
  const terms: WordAt[] = [];
  for (const word of wordsOf(text)) {
    if (!indexable(word.term) || seen.has(word.term)) continue;
    seen.add(word.term);
    terms.push(word);
    if (terms.length >= max) break;
  }
  return terms;
}

/** A word of a query: whole words match exactly, the last one (being typed) as a prefix once it is long enough. */
export interface QueryTerm {
  readonly term: string;
  readonly prefix: boolean;
}

/** The words a query searches for: distinct, in order, stop words kept only when nothing else is left. */
export function queryTerms(query: string): QueryTerm[] {
  const all = [...new Set(wordsOf(query).map((word) => word.term))].filter(
    (term) => term.length >= SEARCH_LIMITS.minTermChars,
  );
  const meaningful = all.filter((term) => !STOP_WORDS.has(term));
  const chosen = (meaningful.length > 0 ? meaningful : all).slice(0, SEARCH_LIMITS.maxQueryTerms);
  const last = all.at(-1);
  // The query ends in the middle of a word: that word (if kept) is still being typed.
  const typing = /[\p{L}\p{N}]$/u.test(query);
  return chosen.map((term) => ({
    term,
    prefix: typing && term === last && term.length >= SEARCH_LIMITS.minPrefixChars,
  }));
}

/** About `snippetChars` of `text` around `[start, end)`, cut at spaces, whitespace collapsed, `…` where cut. */
export function snippetAround(text: string, start: number, end: number): string {
  const room = Math.max(0, SEARCH_LIMITS.snippetChars - (end - start));
  let from = Math.max(0, start - Math.floor(room / 3));
  let to = Math.min(text.length, end + (room - (start - from)));
  if (from > 0) {
    const space = text.indexOf(' ', from);
    if (space !== -1 && space < start) from = space + 1;
  }
  if (to < text.length) {
    const space = text.lastIndexOf(' ', to);
    if (space > end) to = space;
  }
  const body = text.slice(from, to).replace(/\s+/g, ' ').trim();
  return `${from > 0 ? '…' : ''}${body}${to < text.length ? '…' : ''}`;
}

/** Where the query's words stand in `snippet`: each word that starts with a query term, as `[start, end)`. */
export function highlightsIn(snippet: string, terms: readonly QueryTerm[]): { start: number; end: number }[] {
  return wordsOf(snippet)
    .filter((word) =>
      terms.some((query) => (query.prefix ? word.term.startsWith(query.term) : word.term === query.term)),
    )
    .map(({ start, end }) => ({ start, end }));
}
