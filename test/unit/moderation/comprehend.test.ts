import type {
  DetectToxicContentCommand,
  DetectToxicContentCommandInput,
  DetectToxicContentCommandOutput,
  ToxicLabels,
} from '@aws-sdk/client-comprehend';
import { describe, expect, it } from 'vitest';
import { chunkText, createComprehendClassifier } from '../../../lambdas/moderation/classifiers/comprehend';

/** A Comprehend client replaced at `send`: scores each segment with `score`, records the requests. */
function fakeComprehend(score: (segment: string) => ToxicLabels = () => ({ Toxicity: 0.01, Labels: [] })) {
  const requests: DetectToxicContentCommandInput[] = [];
  return {
    requests,
    async send(command: DetectToxicContentCommand): Promise<DetectToxicContentCommandOutput> {
      requests.push(command.input);
      return {
        $metadata: {},
        ResultList: (command.input.TextSegments ?? []).map((s) => score(s.Text ?? '')),
      };
    },
  };
}

const classifierWith = (
  client: ReturnType<typeof fakeComprehend>,
  thresholds: Record<string, number> = { default: 0.5 },
) => createComprehendClassifier({ client, region: 'us-east-1', thresholds });

describe('chunkText', () => {
  it('keeps every segment within 1 KB of UTF-8 and loses no text', () => {
    const text = `${'héllo wörld '.repeat(200)}${'x'.repeat(3000)} 🙂🙂🙂`;
    const segments = chunkText(text);
    for (const segment of segments)
      expect(new TextEncoder().encode(segment).length).toBeLessThanOrEqual(1024);
    expect(segments.join('')).toBe(text);
  });

  it('splits at whitespace when it can', () => {
    const segments = chunkText(`${'word '.repeat(300)}`);
    for (const segment of segments.slice(1)) expect(segment.startsWith(' ')).toBe(true);
  });
});

describe('comprehend classifier', () => {
  it('sends English segments of at most 1 KB, at most 10 per call', async () => {
    const client = fakeComprehend();
    await classifierWith(client).classify('a'.repeat(1000).concat(' ').repeat(15), { direction: 'input' });
    expect(client.requests.length).toBe(2);
    for (const request of client.requests) {
      expect(request.LanguageCode).toBe('en');
      expect(request.TextSegments?.length).toBeLessThanOrEqual(10);
    }
    expect(client.requests.flatMap((r) => r.TextSegments ?? []).length).toBe(15);
  });

  it('allows text whose labels all score below their thresholds', async () => {
    const client = fakeComprehend(() => ({ Toxicity: 0.2, Labels: [{ Name: 'INSULT', Score: 0.3 }] }));
    expect(await classifierWith(client).classify('hello', { direction: 'input' })).toEqual({
      action: 'allow',
      categories: [],
    });
  });

  it('blocks with our category names for every label at or over its threshold', async () => {
    const client = fakeComprehend(() => ({
      Toxicity: 0.9,
      Labels: [
        { Name: 'HATE_SPEECH', Score: 0.8 },
        { Name: 'VIOLENCE_OR_THREAT', Score: 0.5 },
        { Name: 'PROFANITY', Score: 0.1 },
      ],
    }));
    const result = await classifierWith(client).classify('...', { direction: 'output' });
    expect(result.action).toBe('block');
    expect(result.categories.sort()).toEqual(['hate', 'toxicity', 'violence']);
  });

  it('applies per-category thresholds over the default', async () => {
    const client = fakeComprehend(() => ({ Toxicity: 0.3, Labels: [{ Name: 'PROFANITY', Score: 0.7 }] }));
    const lenient = classifierWith(client, { default: 0.5, profanity: 0.9 });
    expect((await lenient.classify('...', { direction: 'input' })).action).toBe('allow');
    const strict = classifierWith(client, { default: 0.5, toxicity: 0.25 });
    expect(await strict.classify('...', { direction: 'input' })).toEqual({
      action: 'block',
      categories: ['toxicity', 'profanity'],
    });
  });

  it('flags the text when any one segment is toxic', async () => {
    const client = fakeComprehend((segment) =>
      segment.includes('nasty')
        ? { Toxicity: 0.95, Labels: [{ Name: 'INSULT', Score: 0.9 }] }
        : { Toxicity: 0, Labels: [] },
    );
    const text = `${'fine words '.repeat(150)}nasty`;
    expect((await classifierWith(client).classify(text, { direction: 'input' })).categories.sort()).toEqual([
      'insult',
      'toxicity',
    ]);
  });

  it('lets a service error surface to the caller (which applies the fail mode)', async () => {
    const client = {
      async send(): Promise<DetectToxicContentCommandOutput> {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    };
    await expect(
      createComprehendClassifier({ client, region: 'us-east-1', thresholds: {} }).classify('x', {
        direction: 'input',
      }),
    ).rejects.toThrow('Rate exceeded');
  });
});
