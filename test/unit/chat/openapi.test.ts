import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH, renderOpenApi } from '../../../scripts/openapi';

describe('docs/openapi.json', () => {
  it('is what the zod schemas generate (run `npx tsx scripts/openapi.ts` after changing them)', async () => {
    expect(await readFile(OPENAPI_PATH, 'utf8')).toBe(renderOpenApi());
  });

  it('describes the chat request with its limits and rejects unknown fields', () => {
    const document = JSON.parse(renderOpenApi());
    const request = document.components.schemas.ChatCompletionRequest;
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.messages.maxItems).toBe(50);
  });
});
