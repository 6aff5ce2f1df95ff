import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModeration, type ModerationConfig, type Verdict } from '../../../lambdas/moderation';
import { compileRules, redact, resolveMatches } from '../../../lambdas/moderation/rules';
import { allRules, configWith, memoryRecorder } from './helpers';

/** The rules applied to the whole answer at once: what streaming must agree with. */
function reference(config: ModerationConfig, text: string) {
  const matches = resolveMatches(compileRules(config, 'output').scan(text));
  const firstBlock = matches.find((match) => match.action === 'block');
  if (firstBlock === undefined) return { blocked: false as const, text: redact(text, matches) };
  const before = matches.filter((match) => match.end <= firstBlock.start);
  return {
    blocked: true as const,
    categories: new Set(matches.filter((m) => m.action === 'block').map((m) => m.category)),
    firstCategory: firstBlock.category,
    // Streaming may show at most the (redacted) text before the first blocked match.
    shownAtMost: redact(text.slice(0, firstBlock.start), before),
  };
}

async function streamed(config: ModerationConfig, deltas: string[]) {
  const filter = createModeration({ config, recorder: memoryRecorder() }).createOutputFilter();
  let shown = '';
  let verdict: Verdict | null = null;
  for (const delta of deltas) {
    const result = await filter.push(delta);
    shown += result.emit;
    verdict ??= result.verdict;
  }
  const last = await filter.flush();
  return { shown: shown + last.emit, verdict: verdict ?? last.verdict };
}

const WORDS = [
  'ignore',
  'all',
  'previous',
  'instructions',
  '<|im_start|>',
  '[INST]',
  '###',
  'System:',
  'Hello',
  'the',
  'answer',
  'is',
  'A',
  'I',
  'OK',
  'DE',
  'AKIA',
  'call',
  'mail',
  'at',
  'me',
  'on',
  '2024',
  '42',
  'x1',
  'key=',
  'aws_secret_access_key=',
  'IBAN:',
  'mail:',
];
const SENSITIVE = [
  'jane.doe@example.com',
  'a@b.co',
  '+1 (555) 123-4567',
  '555-123-4567',
  '020 7946 0958',
  '4111 1111 1111 1111',
  '4111111111111111',
  '4111 1111 1111 1112',
  '5555-5555-5555-4444',
  'DE89 3704 0044 0532 0130 00',
  'GB82WEST12345698765432',
  'DE89370400440532013001',
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'grimfrost',
  'GR1MFR0ST',
  'evil plan',
  'evil',
  'plan',
];
const PUNCTUATION = ['.', ',', '!', '?', ':', '(', ')', '"', '=', '-', '/', '+', '_'];

const token = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 3, arbitrary: fc.constantFrom(...SENSITIVE) },
  { weight: 1, arbitrary: fc.constantFrom(...PUNCTUATION) },
);
const separator = fc.constantFrom(' ', ' ', ' ', '\n', '', '  ');
const answer = fc
  .array(fc.tuple(token, separator), { minLength: 1, maxLength: 40 })
  .map((parts) => parts.map(([word, sep]) => word + sep).join(''));

/** An answer and an arbitrary split of it into deltas (empty deltas included). */
const splitAnswer = answer.chain((text) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: text.length }), { maxLength: Math.min(30, text.length + 1) })
    .map((cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), text.length];
      return { text, deltas: points.slice(1).map((end, i) => text.slice(points[i], end)) };
    }),
);

describe('output filter properties', () => {
  it('shows exactly the whole-answer redaction, whatever the split, when every rule redacts', async () => {
    const config = allRules('redact', ['grimfrost', 'evil plan']);
    const redacting: ModerationConfig = {
      ...config,
      blocklistAction: { input: 'redact', output: 'redact' },
      injectionAction: { input: 'redact', output: 'redact' },
    };
    await fc.assert(
      fc.asyncProperty(splitAnswer, async ({ text, deltas }) => {
        const expected = reference(redacting, text);
        const result = await streamed(redacting, deltas);
        expect(expected.blocked).toBe(false);
        expect(result.verdict).toBeNull();
        if (!expected.blocked) expect(result.shown).toBe(expected.text);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it.each([
    [
      'every detector on, with a phrase blocklist',
      configWith({ pii: { email: 'redact', phone: 'redact' } }, ['grimfrost', 'evil plan']),
    ],
    ['the default rules, with a one-word blocklist', configWith({}, ['grimfrost'])],
    ['the default rules', configWith()],
    ['injection blocked on output too', configWith({ injection: 'block', pii: { iban: 'redact' } })],
  ])(
    'blocks exactly when the whole answer would be blocked, showing nothing of the blocked part (%s)',
    async (_name, config) => {
      await fc.assert(
        fc.asyncProperty(splitAnswer, async ({ text, deltas }) => {
          const expected = reference(config, text);
          const result = await streamed(config, deltas);
          if (!expected.blocked) {
            expect(result.verdict).toBeNull();
            expect(result.shown).toBe(expected.text);
            return;
          }
          expect(result.verdict?.action).toBe('block');
          expect(result.verdict?.categories).toContain(expected.firstCategory);
          for (const category of result.verdict?.categories ?? [])
            expect(expected.categories).toContain(category);
          expect(expected.shownAtMost.startsWith(result.shown)).toBe(true);
        }),
        { numRuns: 300 },
      );
    },
    60_000,
  );

  it('shows the same as a single delta would, for any split', async () => {
    const config = configWith({ pii: { email: 'redact', phone: 'redact' } }, ['grimfrost', 'evil plan']);
    await fc.assert(
      fc.asyncProperty(splitAnswer, async ({ text, deltas }) => {
        const whole = await streamed(config, [text]);
        const split = await streamed(config, deltas);
        expect(split.verdict?.action).toBe(whole.verdict?.action);
        if (whole.verdict === null) expect(split.shown).toBe(whole.shown);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
