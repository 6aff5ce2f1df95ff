import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModeration } from '../../../lambdas/moderation';
import { allRules, memoryRecorder } from './helpers';

/**
 * Structured outputs go through the same windowed output filter as text: a redaction inside a JSON string must
 * leave the document valid (same keys, same types), however the engine cut it into deltas.
 */

const VALUES = [
  'jane.doe@example.com',
  'call +1 415 555 0100 now',
  '4111 1111 1111 1111',
  'DE89370400440532013000',
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'line\nbreak',
  'a "quoted" word',
  'back\\slash',
  '555',
  '0100',
  'plain words',
];

async function filtered(deltas: string[]): Promise<{ shown: string; blocked: boolean }> {
  const filter = createModeration({
    config: allRules('redact'),
    recorder: memoryRecorder(),
  }).createOutputFilter();
  let shown = '';
  let blocked = false;
  for (const delta of deltas) {
    const result = await filter.push(delta);
    shown += result.emit;
    blocked ||= result.verdict?.action === 'block';
  }
  const last = await filter.flush();
  return { shown: shown + last.emit, blocked: blocked || last.verdict?.action === 'block' };
}

/** A text cut at the given offsets (sorted, deduplicated, within bounds). */
function cut(text: string, offsets: number[]): string[] {
  const points = [...new Set(offsets.map((offset) => offset % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(text.slice(from, point));
    from = point;
  }
  parts.push(text.slice(from));
  return parts.filter((part) => part !== '');
}

describe('the output filter on JSON answers', () => {
  it('redacts inside JSON strings and keeps the document valid, with the same keys and types', async () => {
    const document = fc.dictionary(
      fc.stringMatching(/^[a-z]{1,8}$/),
      fc.oneof(
        fc.constantFrom(...VALUES),
        fc.integer(),
        fc.boolean(),
        fc.array(fc.constantFrom(...VALUES), { maxLength: 3 }),
      ),
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(document, fc.array(fc.nat(), { maxLength: 12 }), async (value, offsets) => {
        const json = JSON.stringify(value);
        const { shown, blocked } = await filtered(cut(json, offsets));
        expect(blocked).toBe(false);
        const parsed = JSON.parse(shown) as Record<string, unknown>;
        expect(Object.keys(parsed)).toEqual(Object.keys(value));
        for (const key of Object.keys(value)) expect(typeof parsed[key]).toBe(typeof value[key]);
      }),
      { numRuns: 300 },
    );
  });

  it('masks the personal data it finds in a JSON answer', async () => {
    const { shown } = await filtered(cut(JSON.stringify({ contact: 'jane.doe@example.com' }), [5, 17, 23]));
    expect(JSON.parse(shown)).toEqual({ contact: '[REDACTED:email]' });
  });
});
