import type {
  DetectToxicContentCommand,
  DetectToxicContentCommandInput,
  DetectToxicContentCommandOutput,
} from '@aws-sdk/client-comprehend';
import type { Classifier, ClassifierResult, ClassifyContext } from '../types';

/** The slice of the Comprehend client this provider uses (a real `ComprehendClient` fits; tests pass a fake). */
export interface ComprehendLike {
  send(
    command: DetectToxicContentCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<DetectToxicContentCommandOutput>;
}

/** Comprehend's toxicity labels → our category names. */
export const COMPREHEND_CATEGORIES: Readonly<Record<string, string>> = {
  GRAPHIC: 'graphic',
  HARASSMENT_OR_ABUSE: 'harassment',
  HATE_SPEECH: 'hate',
  INSULT: 'insult',
  PROFANITY: 'profanity',
  SEXUAL: 'sexual',
  VIOLENCE_OR_THREAT: 'violence',
};
export const TOXICITY_CATEGORY = 'toxicity';

/** DetectToxicContent limits: English, at most 10 segments of at most 1 KB (UTF-8) per call. */
export const MAX_SEGMENT_BYTES = 1024;
export const MAX_SEGMENTS_PER_CALL = 10;

const encoder = new TextEncoder();
const bytes = (value: string) => encoder.encode(value).length;

/** Splits text into segments of at most `maxBytes` UTF-8 bytes, preferring whitespace, never splitting a code point. */
export function chunkText(text: string, maxBytes = MAX_SEGMENT_BYTES): string[] {
  const segments: string[] = [];
  let current = '';
  let currentBytes = 0;
  let lastSpace = -1;
  for (const char of text) {
    const size = bytes(char);
    if (currentBytes + size > maxBytes) {
      if (lastSpace > 0) {
        segments.push(current.slice(0, lastSpace));
        current = current.slice(lastSpace);
      } else {
        segments.push(current);
        current = '';
      }
      currentBytes = bytes(current);
      lastSpace = -1;
    }
    if (/\s/u.test(char)) lastSpace = current.length;
    current += char;
    currentBytes += size;
  }
  if (current.trim()) segments.push(current);
  return segments.filter((segment) => segment.trim().length > 0);
}

export interface ComprehendClassifierOptions {
  /** Created lazily (and the SDK loaded lazily) when absent, so a chat Lambda without this provider never loads it. */
  client?: ComprehendLike;
  region: string;
  thresholds: Readonly<Record<string, number>>;
}

/** Amazon Comprehend `DetectToxicContent`: flags a text when any label (or overall toxicity) reaches its threshold. */
export function createComprehendClassifier(options: ComprehendClassifierOptions): Classifier {
  let client = options.client;
  const threshold = (category: string) => options.thresholds[category] ?? options.thresholds.default ?? 0.5;

  const detect = async (segments: string[], abortSignal: AbortSignal | undefined) => {
    const sdk = await import('@aws-sdk/client-comprehend');
    client ??= new sdk.ComprehendClient({ region: options.region });
    const input: DetectToxicContentCommandInput = {
      TextSegments: segments.map((Text) => ({ Text })),
      LanguageCode: 'en',
    };
    const output: DetectToxicContentCommandOutput = await client.send(
      new sdk.DetectToxicContentCommand(input),
      abortSignal ? { abortSignal } : {},
    );
    return output.ResultList ?? [];
  };

  return {
    provider: 'comprehend',
    async classify(text: string, context: ClassifyContext): Promise<ClassifierResult> {
      const segments = chunkText(text);
      const batches: string[][] = [];
      for (let i = 0; i < segments.length; i += MAX_SEGMENTS_PER_CALL) {
        batches.push(segments.slice(i, i + MAX_SEGMENTS_PER_CALL));
      }
      const results = (await Promise.all(batches.map((batch) => detect(batch, context.abortSignal)))).flat();
      const categories = new Set<string>();
      for (const result of results) {
        if ((result.Toxicity ?? 0) >= threshold(TOXICITY_CATEGORY)) categories.add(TOXICITY_CATEGORY);
        for (const label of result.Labels ?? []) {
          const category = label.Name ? COMPREHEND_CATEGORIES[label.Name] : undefined;
          if (category !== undefined && (label.Score ?? 0) >= threshold(category)) categories.add(category);
        }
      }
      return categories.size > 0
        ? { action: 'block', categories: [...categories] }
        : { action: 'allow', categories: [] };
    },
  };
}
