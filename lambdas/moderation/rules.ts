import { ModerationCategory } from './categories';
import { ibanValid, luhnValid } from './pii';
import type { ModerationConfig, ModerationDirection, PiiKind, RuleAction } from './types';

/** One rule hit in a scanned text, as a half-open range of the original text. */
export interface RuleMatch {
  start: number;
  end: number;
  category: string;
  action: Exclude<RuleAction, 'off'>;
  /** What replaces the match when redacted, e.g. `[REDACTED:email]`. */
  replacement: string;
}

/** The rule layer for one direction, compiled once. */
export interface CompiledRules {
  /** Every match in `text`, sorted by start; overlaps are resolved by `resolveMatches`. */
  scan(text: string): RuleMatch[];
  /**
   * Where the tail of a streamed buffer that may still become (or stop being) a match begins: the output
   * filter holds text from there on. Only enabled rules hold text back, so ordinary words flow through at once.
   */
  holdStart(buffer: string, maxHoldChars: number): number;
}

/* ---------- normalisation for word rules (blocklist, injection phrases) ---------- */

// Cheap leetspeak folding: each of these stands for one letter. `1`, `!` and `|` are ambiguous (i or l), so
// they fold to `1` and word patterns accept `1` wherever they have `i` or `l`.
const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '3': 'e',
  '4': 'a',
  '@': 'a',
  '5': 's',
  $: 's',
  '7': 't',
  '!': '1',
  '|': '1',
};
const INVISIBLE = /[\u00ad\u200b-\u200f\u2060\ufeff]/u;
const COMBINING = /\p{M}/gu;
const SYMBOLS = new Set(['@', '$', '!', '|']);
const ALNUM = /^[\p{L}\p{N}]$/u;

/** A folded copy of a text (lower case, no diacritics, leet folded) with a map back to original offsets. */
export interface Skeleton {
  text: string;
  /** The original range `[start, end)` that produced folded char `index`. */
  startOf(index: number): number | undefined;
  endOf(index: number): number | undefined;
}

const NON_ASCII = /[^\p{ASCII}]/u;
const ASCII_LEET = /[0-9@$!|]/g;
const ASCII_ALNUM = /[A-Za-z0-9]/;

export function skeleton(original: string): Skeleton {
  if (!NON_ASCII.test(original)) {
    // The common case: one folded char per original char, so offsets map to themselves.
    const text = original.toLowerCase().replace(ASCII_LEET, (char, offset: number) => {
      const inWord = !SYMBOLS.has(char) || ASCII_ALNUM.test(original[offset + 1] ?? ' ');
      return inWord ? (LEET[char] ?? char) : char;
    });
    const inRange = (index: number) => (index >= 0 && index < text.length ? index : undefined);
    return {
      text,
      startOf: inRange,
      endOf: (index) => (inRange(index) === undefined ? undefined : index + 1),
    };
  }
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  for (let offset = 0; offset < original.length; ) {
    const char = String.fromCodePoint(original.codePointAt(offset) ?? 32);
    const end = offset + char.length;
    if (!INVISIBLE.test(char)) {
      const folded = char.normalize('NFKD').replace(COMBINING, '').toLowerCase();
      // A symbol stands for a letter only inside a word ("gr!m"), not as punctuation after one ("grim!").
      const inWord = !SYMBOLS.has(char) || ALNUM.test(String.fromCodePoint(original.codePointAt(end) ?? 32));
      for (const piece of folded) {
        const mapped = inWord ? (LEET[piece] ?? piece) : piece;
        text += mapped;
        for (let k = 0; k < mapped.length; k++) {
          starts.push(offset);
          ends.push(end);
        }
      }
    }
    offset = end;
  }
  return { text, startOf: (index) => starts[index], endOf: (index) => ends[index] };
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A blocklist term as a pattern over folded text: words joined by any whitespace, i/l also matching `1`. */
function termPattern(term: string): string | undefined {
  const words = skeleton(term.trim()).text.split(/\s+/u).filter(Boolean);
  if (words.length === 0) return undefined;
  return words
    .map((word) =>
      Array.from(word)
        .map((char) => (char === 'i' || char === 'l' ? `[${char}1]` : escapeRegExp(char)))
        .join(''),
    )
    .join('\\s+');
}

const WORD_START = '(?<![\\p{L}\\p{N}])';
const WORD_END = '(?![\\p{L}\\p{N}])';

/* ---------- prompt injection ---------- */

// Over folded text (lower case, leet folded). Bounded repetitions keep every pattern linear.
const QUALIFIER =
  '(?:all|any|every|the|your|my|of|these|those|previous|prior|above|earlier|preceding|former|initial|original|system|developer|safety)';
const TARGET =
  '(?:instructions?|prompts?|rules?|directions?|directives?|guidelines?|guardrails?|messages?|context|commands?|constraints?|polic(?:y|ies)|programming)';
/** Lets a phrase pattern (no character classes of its own) accept the leet `1` for `i` and `l`. */
const leetTolerant = (pattern: RegExp) =>
  new RegExp(
    pattern.source.replace(/(?<!\\)[il]/g, (char) => `[${char}1]`),
    pattern.flags,
  );

const INJECTION_PHRASES: readonly RegExp[] = [
  new RegExp(
    `\\b(?:ignore|disregard|forget|override|bypass|skip|drop)\\s+(?:${QUALIFIER}\\s+){0,4}(?:previous|prior|above|earlier|preceding|former|initial|original|system|developer|safety|your|all)\\s+${TARGET}\\b`,
    'gu',
  ),
  /\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)\s+(?:above|before|previously|you\s+were\s+told)\b/gu,
  /\b(?:reveal|show|print|display|repeat|output|tell|give|leak|dump|disclose|share|expose|recite|what(?:'s|\s+is|\s+are|\s+was|\s+were))\s+(?:me\s+|us\s+)?(?:(?:your|the|its|my|all|full|exact|entire|original|initial|hidden|secret|complete|verbatim|first)\s+){0,4}(?:system\s+(?:prompt|message|instructions?)|(?:initial|original|hidden|secret|developer|pre-?)\s*(?:prompt|instructions?)|instructions\s+(?:above|you\s+were\s+given))/gu,
  /\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be|enable|enter|activate|switch\s+to)\s+(?:a\s+|an\s+|in\s+)?(?:dan|jailbroken|unrestricted|unfiltered|uncensored|developer\s+mode|god\s+mode|jailbreak\s+mode)\b/gu,
].map(leetTolerant);
const INJECTION_PHRASE_WORDS = 12;

// Over the original text: chat-template control tokens and role headers a user has no reason to type.
const ROLE_TAGS: readonly RegExp[] = [
  /<\|\s*(?:im_start|im_end|im_sep|system|user|assistant|start_header_id|end_header_id|eot_id|begin_of_text|end_of_text|endoftext)\s*\|>/giu,
  /\[\/?(?:INST|SYS)\]/giu,
  /<<\/?SYS>>/giu,
  /<\/?(?:start_of_turn|end_of_turn|system|system_prompt)>/giu,
  /(?:^|\n)[ \t]*#{2,}[ \t]*(?:system|instructions?|assistant|developer)[ \t]*:/giu,
];

/* ---------- PII and secrets (over the original text) ---------- */

interface Detector {
  kind: PiiKind;
  category: string;
  pattern: RegExp;
  /** Extra check on a candidate; may return a shorter valid range inside it. */
  accept?: (text: string, start: number, end: number) => [number, number] | undefined;
}

/** Words that, just before 40 base64 characters, make them an AWS secret key. */
const SECRET_KEY_HINT = /aws|secret|access[_ -]?key|AKIA|ASIA/i;

const digitsOf = (value: string) => value.replace(/\D/g, '');

const DETECTORS: readonly Detector[] = [
  {
    kind: 'aws_access_key',
    category: ModerationCategory.awsAccessKey,
    pattern:
      /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    kind: 'aws_secret_key',
    category: ModerationCategory.awsSecretKey,
    pattern: /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    // 40 base64 characters are also hashes and ids: demand mixed case and a digit, and either a `/`/`+` or
    // a telling word just before it.
    accept: (text, start, end) => {
      const candidate = text.slice(start, end);
      if (!/[a-z]/.test(candidate) || !/[A-Z]/.test(candidate) || !/\d/.test(candidate)) return undefined;
      if (/[/+]/.test(candidate)) return [start, end];
      const before = text.slice(Math.max(0, start - 48), start);
      return SECRET_KEY_HINT.test(before) ? [start, end] : undefined;
    },
  },
  {
    kind: 'email',
    category: ModerationCategory.piiEmail,
    pattern:
      /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
  },
  {
    kind: 'iban',
    category: ModerationCategory.piiIban,
    pattern:
      /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g,
    // A spaced IBAN may be followed by a capitalised word that looks like one more group: try shorter prefixes.
    accept: (text, start, end) => {
      for (let stop = end; stop - start >= 15; stop = text.lastIndexOf(' ', stop - 1)) {
        if (ibanValid(text.slice(start, stop))) return [start, stop];
        if (!text.slice(start, stop).includes(' ')) return undefined;
      }
      return undefined;
    },
  },
  {
    kind: 'card',
    category: ModerationCategory.piiCard,
    pattern: /(?<![\d-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?![\d])/g,
    accept: (text, start, end) => (luhnValid(digitsOf(text.slice(start, end))) ? [start, end] : undefined),
  },
  {
    kind: 'phone',
    category: ModerationCategory.piiPhone,
    // International (+CC …), North American (555-123-4567, (555) 123-4567) and national trunk-prefixed
    // (020 7946 0958) shapes; a bare run of digits is too often something else.
    pattern:
      /(?<![\w+])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}|(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}|0\d{1,4}[ -]\d{3,4}[ -]?\d{3,4})(?![\w])/g,
    accept: (text, start, end) => {
      const count = digitsOf(text.slice(start, end)).length;
      return count >= 9 && count <= 15 ? [start, end] : undefined;
    },
  },
];

const redactionFor = (name: string) => `[REDACTED:${name}]`;

/** Compiles the rule layer of one direction from the config. */
export function compileRules(config: ModerationConfig, direction: ModerationDirection): CompiledRules {
  const blocklistAction = config.blocklistAction[direction];
  const injectionAction = config.injectionAction[direction];
  const patterns =
    blocklistAction === 'off'
      ? []
      : config.blocklist
          .map(termPattern)
          .filter((pattern): pattern is string => pattern !== undefined)
          .sort((a, b) => b.length - a.length);
  const blocklist =
    patterns.length > 0 ? new RegExp(`${WORD_START}(?:${patterns.join('|')})${WORD_END}`, 'gu') : undefined;
  const blocklistWords = Math.max(0, ...config.blocklist.map((term) => term.trim().split(/\s+/u).length));
  const detectors = DETECTORS.filter((detector) => config.pii[detector.kind][direction] !== 'off');

  const scan = (text: string): RuleMatch[] => {
    const matches: RuleMatch[] = [];
    const needsSkeleton = blocklist !== undefined || injectionAction !== 'off';
    const folded = needsSkeleton ? skeleton(text) : undefined;
    const fromFolded = (pattern: RegExp, category: string, action: Exclude<RuleAction, 'off'>) => {
      if (folded === undefined) return;
      for (const found of folded.text.matchAll(pattern)) {
        const last = found.index + found[0].length - 1;
        const start = folded.startOf(found.index);
        const end = folded.endOf(last);
        if (start === undefined || end === undefined) continue;
        matches.push({ start, end, category, action, replacement: redactionFor(category) });
      }
    };
    if (blocklist !== undefined && blocklistAction !== 'off') {
      fromFolded(blocklist, ModerationCategory.blocklist, blocklistAction);
    }
    if (injectionAction !== 'off') {
      for (const pattern of INJECTION_PHRASES)
        fromFolded(pattern, ModerationCategory.promptInjection, injectionAction);
      for (const pattern of ROLE_TAGS) {
        for (const found of text.matchAll(pattern)) {
          matches.push({
            start: found.index,
            end: found.index + found[0].length,
            category: ModerationCategory.promptInjection,
            action: injectionAction,
            replacement: redactionFor(ModerationCategory.promptInjection),
          });
        }
      }
    }
    for (const detector of detectors) {
      const action = config.pii[detector.kind][direction];
      if (action === 'off') continue;
      for (const found of text.matchAll(detector.pattern)) {
        const range = detector.accept
          ? detector.accept(text, found.index, found.index + found[0].length)
          : ([found.index, found.index + found[0].length] as [number, number]);
        if (range === undefined) continue;
        matches.push({
          start: range[0],
          end: range[1],
          category: detector.category,
          action,
          replacement: redactionFor(detector.kind),
        });
      }
    }
    return matches.sort((a, b) => a.start - b.start || b.end - a.end);
  };

  const enabled = (kind: PiiKind) => config.pii[kind][direction] !== 'off';
  const phraseWords = Math.max(
    blocklist ? blocklistWords : 0,
    injectionAction === 'off' ? 0 : INJECTION_PHRASE_WORDS,
  );
  const firstWords = new Set(
    config.blocklist.map((term) => foldAmbiguous(skeleton(term.trim().split(/\s+/u)[0] ?? '').text)),
  );
  // A term that opens with punctuation cannot be recognised from its letters: hold every unfinished word.
  const holdAllWords = [...firstWords].some((word) => word !== '' && !/^[\p{L}\p{N}]/u.test(word));
  const holdDigits = enabled('card') || enabled('phone');
  const lastWords = phraseWords > 1 ? new RegExp(`(?:\\S+\\s+){1,${phraseWords - 1}}$`, 'u') : undefined;

  /**
   * Where, inside the trailing unfinished word, a match may still begin (`undefined`: nowhere). Each detector
   * starts right after a character outside its own alphabet, so only the run it would start needs holding: a
   * long gibberish "word" is not held whole because its last few letters may open a key.
   */
  const partialHoldFrom = (word: string): number | undefined => {
    if (enabled('email') || phraseWords > 1 || (blocklist !== undefined && holdAllWords)) return 0;
    if (injectionAction !== 'off' && /[<[#]/.test(word)) return 0;
    if (holdDigits && /[\d+(]/.test(word)) return 0;
    let from: number | undefined;
    const earliest = (offset: number) => {
      if (from === undefined || offset < from) from = offset;
    };
    const alnum = /[A-Za-z0-9]*$/.exec(word)?.[0] ?? '';
    const alnumStart = word.length - alnum.length;
    if (enabled('aws_access_key') && /^A[A-Z0-9]{0,19}$/.test(alnum)) earliest(alnumStart);
    if (enabled('iban') && /^(?:[A-Z]{1,2}|[A-Z]{2}\d{1,2}[A-Z0-9]*)$/.test(alnum)) earliest(alnumStart);
    // Any letters may open a secret key; a run that already broke its alphabet or outgrew 40 chars cannot.
    const base64 = /[A-Za-z0-9/+]*$/.exec(word)?.[0] ?? '';
    if (enabled('aws_secret_key') && /^[A-Za-z0-9/+]{1,40}$/.test(base64)) {
      // A labelled key (`aws_secret_access_key=…`) is held with its label, so a block shows neither.
      const label = word.slice(0, word.length - base64.length);
      earliest(SECRET_KEY_HINT.test(label) ? 0 : word.length - base64.length);
    }
    if (blocklist !== undefined) {
      const folded = skeleton(word).text;
      const run = /[\p{L}\p{N}]*$/u.exec(folded)?.[0] ?? '';
      const letters = foldAmbiguous(run);
      if (letters !== '' && [...firstWords].some((first) => first.startsWith(letters))) {
        // Folded offsets equal original ones for ASCII text only; otherwise hold the whole word.
        earliest(folded.length === word.length ? word.length - run.length : 0);
      }
    }
    return from;
  };

  const holdStart = (buffer: string, maxHoldChars: number): number => {
    let hold = buffer.length;
    const lower = (index: number | undefined) => {
      if (index !== undefined && index < hold) hold = index;
    };
    const partial = /\S+$/u.exec(buffer);
    if (partial) {
      const from = partialHoldFrom(partial[0]);
      if (from !== undefined) lower(partial.index + from);
    }
    // A run of digits and separators (phone and card numbers).
    if (holdDigits) lower(/[+(]?\d[\d ()./-]*$/u.exec(buffer)?.index);
    // A spaced IBAN in progress.
    if (enabled('iban')) lower(/[A-Z]{2}\d{2}[A-Z0-9 ]*$/u.exec(buffer)?.index);
    // The last words of a multi-word phrase (blocklist phrases; injection phrases when enabled).
    if (lastWords !== undefined) lower(lastWords.exec(buffer.slice(0, hold))?.index);
    return Math.max(hold, buffer.length - maxHoldChars, 0);
  };

  return { scan, holdStart };
}

/** `i`, `l` and the leet `1` compare equal in blocklist prefixes. */
const foldAmbiguous = (value: string) => value.replace(/[il]/g, '1');

/** Keeps the first of overlapping matches (longest first at equal starts); blocks win over redactions. */
export function resolveMatches(matches: readonly RuleMatch[]): RuleMatch[] {
  const kept: RuleMatch[] = [];
  for (const match of matches) {
    const previous = kept[kept.length - 1];
    if (previous !== undefined && match.start < previous.end) {
      if (match.action === 'block' && previous.action !== 'block') kept[kept.length - 1] = match;
      continue;
    }
    kept.push(match);
  }
  return kept;
}

/** Replaces each redact match (non-overlapping, sorted, inside `[from, to)`) in `text[from, to)`. */
export function redact(text: string, matches: readonly RuleMatch[], from = 0, to = text.length): string {
  let result = '';
  let cursor = from;
  for (const match of matches) {
    if (match.action !== 'redact' || match.start < from || match.end > to) continue;
    result += text.slice(cursor, match.start) + match.replacement;
    cursor = match.end;
  }
  return result + text.slice(cursor, to);
}

export const uniqueCategories = (matches: readonly { category: string }[]): string[] => [
  ...new Set(matches.map((match) => match.category)),
];
