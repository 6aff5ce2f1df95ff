import { describe, expect, it } from 'vitest';
import {
  type Classifier,
  createModeration,
  type ModerationConfig,
  type Verdict,
} from '../../../lambdas/moderation';
import { allRules, configWith, fakeClassifier, memoryRecorder } from './helpers';

/** Streams the deltas through a fresh filter and collects what it showed. */
async function stream(config: ModerationConfig, deltas: string[], classifier?: Classifier) {
  const recorder = memoryRecorder();
  const filter = createModeration({
    config,
    recorder,
    ...(classifier ? { classifier } : {}),
  }).createOutputFilter({
    prompt: 'the question',
  });
  const emits: string[] = [];
  let verdict: Verdict | null = null;
  for (const delta of deltas) {
    const result = await filter.push(delta);
    emits.push(result.emit);
    verdict ??= result.verdict;
  }
  const last = await filter.flush();
  emits.push(last.emit);
  verdict ??= last.verdict;
  return { shown: emits.join(''), emits, verdict, recorder };
}

const withClassifierConfig = (overrides: Partial<ModerationConfig['classifier']> = {}): ModerationConfig => {
  const config = configWith();
  return { ...config, classifier: { ...config.classifier, outputMinChars: 1, ...overrides } };
};

describe('output filter, rules', () => {
  it('passes an ordinary answer through unchanged', async () => {
    const deltas = ['Hello', ' there', '! How', ' can I', ' help', ' you today?'];
    const { shown, verdict } = await stream(configWith(), deltas);
    expect(shown).toBe(deltas.join(''));
    expect(verdict).toBeNull();
  });

  it('holds back only the word still being written under the default rules', async () => {
    const filter = createModeration({
      config: configWith(),
      recorder: memoryRecorder(),
    }).createOutputFilter();
    expect((await filter.push('Hello there, fri')).emit).toBe('Hello there, ');
    expect((await filter.push('end. How')).emit).toBe('friend. ');
  });

  it('holds back only the letter run that could still open a key, not a whole word without spaces', async () => {
    const filter = createModeration({
      config: configWith(),
      recorder: memoryRecorder(),
    }).createOutputFilter();
    expect((await filter.push('h*ow%a=re-y')).emit).toBe('h*ow%a=re-');
    expect((await filter.push('ou*to')).emit).toBe('you*');
  });

  it('releases a letter run once it is longer than an AWS secret key can be', async () => {
    const filter = createModeration({
      config: configWith(),
      recorder: memoryRecorder(),
    }).createOutputFilter();
    const run = 'abcdefghij'.repeat(4);
    expect((await filter.push(run)).emit).toBe('');
    expect((await filter.push('k')).emit).toBe(`${run}k`);
  });

  it('holds nothing back for ordinary words when no rule could match inside a word', async () => {
    const config = configWith({
      pii: { card: 'off', iban: 'off', aws_access_key: 'off', aws_secret_key: 'off' },
    });
    const filter = createModeration({ config, recorder: memoryRecorder() }).createOutputFilter();
    expect((await filter.push('Hello')).emit).toBe('Hello');
    expect((await filter.push(' there')).emit).toBe(' there');
  });

  it('passes ordinary words at once when only AWS secret keys are switched off on output', async () => {
    const config = configWith({ pii: { aws_secret_key: { output: 'off' } } });
    const filter = createModeration({ config, recorder: memoryRecorder() }).createOutputFilter();
    expect((await filter.push('Hello')).emit).toBe('Hello');
    expect((await filter.push(' there')).emit).toBe(' there');
  });

  it('redacts an email split across deltas', async () => {
    const { shown, verdict } = await stream(allRules('redact'), [
      'Write to jane.d',
      'oe@exa',
      'mple.com',
      ' today.',
    ]);
    expect(shown).toBe('Write to [REDACTED:email] today.');
    expect(verdict).toBeNull();
  });

  it('never shows any part of an email it redacts, even mid-stream', async () => {
    const { emits } = await stream(allRules('redact'), ['Write to jane', '.doe', '@example', '.com', ' now']);
    for (const emit of emits) expect(emit).not.toMatch(/jane|doe|example/);
  });

  it('blocks a card number split across deltas before any digit of it is shown', async () => {
    const { shown, verdict } = await stream(configWith(), [
      'Your card: 4111 ',
      '1111 11',
      '11 1111',
      ' is on file.',
    ]);
    expect(verdict).toEqual({ action: 'block', categories: ['pii_card'], text: '' });
    expect(shown).toBe('Your card: ');
  });

  it('blocks an AWS key split in the middle', async () => {
    const { shown, verdict } = await stream(configWith(), ['Use AKIAIOSF', 'ODNN7EXAMPLE to sign in']);
    expect(verdict?.categories).toEqual(['secret_aws_access_key']);
    expect(shown).toBe('Use ');
  });

  it('blocks an AWS secret key written right after `=` without showing its first letters', async () => {
    const { shown, verdict } = await stream(configWith(), [
      'aws_secret_access_key=wJ',
      'alrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '\n',
    ]);
    expect(verdict?.categories).toEqual(['secret_aws_secret_key']);
    expect(shown).toBe('');
  });

  it('redacts a spaced IBAN split across deltas', async () => {
    const { shown } = await stream(configWith({ pii: { iban: 'redact' } }), [
      'IBAN: DE89 37',
      '04 0044 0532 01',
      '30 00.',
    ]);
    expect(shown).toBe('IBAN: [REDACTED:iban].');
  });

  it('catches a blocklisted phrase split across deltas', async () => {
    const { shown, verdict } = await stream(configWith({}, ['evil plan']), [
      'Here is the ev',
      'il',
      ' pl',
      'an: step one',
    ]);
    expect(verdict?.categories).toEqual(['blocklist']);
    expect(shown).not.toContain('evil');
  });

  it('catches a blocklisted term that starts with punctuation, split after it', async () => {
    const { shown, verdict } = await stream(configWith({}, ['#grimtag']), ['try #gr', 'imtag now']);
    expect(verdict?.categories).toEqual(['blocklist']);
    expect(shown).toBe('try ');
  });

  it('checks what it held back when the answer ends', async () => {
    const { shown, verdict } = await stream(allRules('redact'), ['call me at 555-123-', '4567']);
    expect(shown).toBe('call me at [REDACTED:phone]');
    expect(verdict).toBeNull();
  });

  it('keeps answering blocked after a block, and records one decision for the answer', async () => {
    const recorder = memoryRecorder();
    const filter = createModeration({ config: configWith(), recorder }).createOutputFilter();
    const first = await filter.push('key AKIAIOSFODNN7EXAMPLE ');
    const later = await filter.push('more text');
    const end = await filter.flush();
    expect(first.verdict?.action).toBe('block');
    expect(later).toEqual({ emit: '', verdict: first.verdict });
    expect(end).toEqual({ emit: '', verdict: first.verdict });
    expect(recorder.decisions).toEqual([
      { direction: 'output', action: 'block', categories: ['secret_aws_access_key'] },
    ]);
  });

  it('records one allow or redact decision when a clean answer ends', async () => {
    const { recorder } = await stream(allRules('redact'), ['mail a@example.com', ' and b@example.org.']);
    expect(recorder.decisions).toEqual([
      { direction: 'output', action: 'redact', categories: ['pii_email'] },
    ]);
  });

  it('lets injection-looking text through on output by default (it is only quoted by the model)', async () => {
    const text = 'Attackers often write "ignore all previous instructions" to hijack a model.';
    expect((await stream(configWith(), [text])).shown).toBe(text);
  });

  it('holds back a bounded tail even inside an endless word', async () => {
    const config = { ...allRules('redact'), outputMaxHoldChars: 64 };
    const filter = createModeration({ config, recorder: memoryRecorder() }).createOutputFilter();
    let shown = '';
    for (let i = 0; i < 10; i++) shown += (await filter.push('x'.repeat(50))).emit;
    expect(shown.length).toBeGreaterThanOrEqual(500 - 64);
  });
});

describe('output filter, classifier', () => {
  it('classifies at sentence boundaries and shows a sentence only after it passed', async () => {
    const classifier = fakeClassifier(() => ({ action: 'allow', categories: [] }));
    const filter = createModeration({
      config: withClassifierConfig(),
      classifier,
      recorder: memoryRecorder(),
    }).createOutputFilter();
    expect((await filter.push('First sentence')).emit).toBe('');
    expect((await filter.push(' ends here. Second')).emit).toBe('First sentence ends here. ');
    expect((await filter.flush()).emit).toBe('Second');
    expect(classifier.seen).toEqual(['First sentence ends here. ', 'Second']);
  });

  it('waits for at least the configured length before classifying', async () => {
    const classifier = fakeClassifier(() => ({ action: 'allow', categories: [] }));
    const filter = createModeration({
      config: withClassifierConfig({ outputMinChars: 30 }),
      classifier,
      recorder: memoryRecorder(),
    }).createOutputFilter();
    expect((await filter.push('Hi. Yes. ')).emit).toBe('');
    expect((await filter.push('This is long enough now. ')).emit).toBe('Hi. Yes. This is long enough now. ');
    expect(classifier.seen).toEqual(['Hi. Yes. This is long enough now. ']);
  });

  it('blocks an answer whose sentence the classifier flags, never showing that sentence', async () => {
    const classifier = fakeClassifier((text) =>
      text.includes('dreadful')
        ? { action: 'block', categories: ['violence'] }
        : { action: 'allow', categories: [] },
    );
    const { shown, verdict } = await stream(
      withClassifierConfig(),
      ['All good. ', 'Then something dread', 'ful. More.'],
      classifier,
    );
    expect(shown).toBe('All good. ');
    expect(verdict).toEqual({ action: 'block', categories: ['violence'], text: '' });
  });

  it('shows the classifier only rule-checked, redacted text', async () => {
    const classifier = fakeClassifier(() => ({ action: 'allow', categories: [] }));
    await stream(withClassifierConfig(), ['My IBAN is DE89370400440532013000. Bye.'], classifier);
    expect(classifier.seen.join('')).not.toContain('DE89');
  });

  it('fails open on output by default: the answer goes on and the failure is counted', async () => {
    const failing: Classifier = {
      provider: 'comprehend',
      async classify() {
        throw new Error('down');
      },
    };
    const { shown, verdict, recorder } = await stream(withClassifierConfig(), ['One. ', 'Two.'], failing);
    expect(shown).toBe('One. Two.');
    expect(verdict).toBeNull();
    expect(recorder.failures).toBe(2);
  });

  it('fails closed on output when configured', async () => {
    const failing: Classifier = {
      provider: 'comprehend',
      async classify() {
        throw new Error('down');
      },
    };
    const config = withClassifierConfig({ failMode: { input: 'closed', output: 'closed' } });
    const { shown, verdict } = await stream(config, ['One. ', 'Two.'], failing);
    expect(shown).toBe('');
    expect(verdict?.categories).toEqual(['classifier_unavailable']);
  });

  it('passes the user prompt to the classifier for context', async () => {
    const prompts: (string | undefined)[] = [];
    const classifier: Classifier = {
      provider: 'guard-model',
      async classify(_text, context) {
        prompts.push(context.prompt);
        return { action: 'allow', categories: [] };
      },
    };
    await stream(withClassifierConfig(), ['An answer.'], classifier);
    expect(prompts).toEqual(['the question']);
  });
});

describe('output filter decision', () => {
  it('is unknown while the answer streams, then tells how it ended', async () => {
    const filter = createModeration({
      config: allRules('redact'),
      recorder: memoryRecorder(),
    }).createOutputFilter();
    await filter.push('mail jane@example.com ');
    expect(filter.decision()).toBeUndefined();
    await filter.flush();
    expect(filter.decision()).toEqual({ direction: 'output', action: 'redact', categories: ['pii_email'] });
  });

  it('reports a block as soon as it happens', async () => {
    const filter = createModeration({
      config: configWith(),
      recorder: memoryRecorder(),
    }).createOutputFilter();
    await filter.push('key AKIAIOSFODNN7EXAMPLE and more');
    expect(filter.decision()).toEqual({
      direction: 'output',
      action: 'block',
      categories: ['secret_aws_access_key'],
    });
  });
});
