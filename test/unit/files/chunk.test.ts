import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../../lambdas/context/window';
import { chunkSegments } from '../../../lambdas/files-ingest/chunk';

const sentence = (i: number) => `Sentence number ${i} talks about the river market and the stone garden.`;

describe('chunkSegments', () => {
  it('keeps every chunk within the token target', () => {
    const text = Array.from({ length: 200 }, (_, i) => sentence(i)).join(' ');
    const chunks = chunkSegments([{ text }], { targetTokens: 100, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(estimateTokens(chunk.text)).toBeLessThanOrEqual(100 + 2);
  });

  it('repeats the end of a chunk at the start of the next (overlap)', () => {
    const text = Array.from({ length: 50 }, (_, i) => sentence(i)).join(' ');
    // One sentence is ~21 estimated tokens: an overlap of 30 carries exactly one.
    const [first, second] = chunkSegments([{ text }], { targetTokens: 100, overlapTokens: 30 });
    const lastSentence = first?.text.split(/(?<=\.)\s/).at(-1) ?? 'missing';
    expect(second?.text.startsWith(lastSentence)).toBe(true);
  });

  it('loses no sentence', () => {
    const text = Array.from({ length: 80 }, (_, i) => sentence(i)).join('\n\n');
    const joined = chunkSegments([{ text }], { targetTokens: 64, overlapTokens: 16 })
      .map((chunk) => chunk.text)
      .join(' ');
    for (let i = 0; i < 80; i++) expect(joined).toContain(sentence(i));
  });

  it('cuts a sentence longer than a chunk at word boundaries', () => {
    const text = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkSegments([{ text }], { targetTokens: 50, overlapTokens: 10 });
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toContain('word399');
  });

  it('never lets a chunk span two pages, and records its page', () => {
    const chunks = chunkSegments(
      [
        { text: 'Page one talks about rivers.', page: 1 },
        { text: 'Page two talks about stones.', page: 2 },
      ],
      { targetTokens: 200, overlapTokens: 40 },
    );
    expect(chunks).toEqual([
      expect.objectContaining({ text: 'Page one talks about rivers.', page: 1 }),
      expect.objectContaining({ text: 'Page two talks about stones.', page: 2 }),
    ]);
  });
});
