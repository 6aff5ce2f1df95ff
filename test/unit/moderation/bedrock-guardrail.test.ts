import type {
  ApplyGuardrailCommand,
  ApplyGuardrailCommandInput,
  ApplyGuardrailCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { createBedrockGuardrailClassifier } from '../../../lambdas/moderation/classifiers/bedrock-guardrail';

type Answer = Omit<ApplyGuardrailCommandOutput, '$metadata' | 'usage'>;

function fakeBedrock(answer: Answer) {
  const requests: ApplyGuardrailCommandInput[] = [];
  return {
    requests,
    async send(command: ApplyGuardrailCommand): Promise<ApplyGuardrailCommandOutput> {
      requests.push(command.input);
      return { $metadata: {}, usage: undefined, ...answer };
    },
  };
}

const classifierWith = (client: ReturnType<typeof fakeBedrock>) =>
  createBedrockGuardrailClassifier({
    client,
    region: 'eu-west-1',
    guardrailId: 'gr-123',
    guardrailVersion: '3',
  });

describe('bedrock-guardrail classifier', () => {
  it('applies the configured guardrail with source INPUT to input and OUTPUT to answers', async () => {
    const client = fakeBedrock({ action: 'NONE', outputs: [], assessments: [] });
    const classifier = classifierWith(client);
    await classifier.classify('hello', { direction: 'input' });
    await classifier.classify('an answer', { direction: 'output' });
    expect(client.requests).toEqual([
      {
        guardrailIdentifier: 'gr-123',
        guardrailVersion: '3',
        source: 'INPUT',
        content: [{ text: { text: 'hello' } }],
      },
      {
        guardrailIdentifier: 'gr-123',
        guardrailVersion: '3',
        source: 'OUTPUT',
        content: [{ text: { text: 'an answer' } }],
      },
    ]);
  });

  it('allows when the guardrail does not intervene', async () => {
    const result = await classifierWith(
      fakeBedrock({ action: 'NONE', outputs: [], assessments: [] }),
    ).classify('hi', {
      direction: 'input',
    });
    expect(result).toEqual({ action: 'allow', categories: [] });
  });

  it('blocks with the categories of the filters and topics that blocked', async () => {
    const client = fakeBedrock({
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'Sorry, I cannot help with that.' }],
      assessments: [
        {
          contentPolicy: {
            filters: [
              { type: 'HATE', confidence: 'HIGH', action: 'BLOCKED' },
              { type: 'PROMPT_ATTACK', confidence: 'MEDIUM', action: 'BLOCKED' },
              { type: 'INSULTS', confidence: 'LOW', action: 'NONE' },
            ],
          },
          topicPolicy: { topics: [{ name: 'Investing', type: 'DENY', action: 'BLOCKED' }] },
        },
      ],
    });
    const result = await classifierWith(client).classify('...', { direction: 'input' });
    expect(result).toEqual({ action: 'block', categories: ['hate', 'prompt_injection', 'denied_topic'] });
  });

  it('redacts with the guardrail’s masked text when it only anonymised PII', async () => {
    const client = fakeBedrock({
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'My name is {NAME}.' }],
      assessments: [
        {
          sensitiveInformationPolicy: {
            piiEntities: [{ match: 'Jane Doe', type: 'NAME', action: 'ANONYMIZED' }],
            regexes: [],
          },
        },
      ],
    });
    const result = await classifierWith(client).classify('My name is Jane Doe.', { direction: 'input' });
    expect(result).toEqual({
      action: 'redact',
      categories: ['pii_name'],
      redactedText: 'My name is {NAME}.',
    });
  });

  it('blocks when PII is set to block', async () => {
    const client = fakeBedrock({
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'blocked' }],
      assessments: [
        {
          sensitiveInformationPolicy: {
            piiEntities: [{ match: '123-45-6789', type: 'US_SOCIAL_SECURITY_NUMBER', action: 'BLOCKED' }],
            regexes: [],
          },
        },
      ],
    });
    expect(await classifierWith(client).classify('...', { direction: 'output' })).toEqual({
      action: 'block',
      categories: ['pii_us_social_security_number'],
    });
  });
});
