import type {
  ApplyGuardrailCommand,
  ApplyGuardrailCommandInput,
  ApplyGuardrailCommandOutput,
  GuardrailAssessment,
} from '@aws-sdk/client-bedrock-runtime';
import type { Classifier, ClassifierResult, ClassifyContext } from '../types';

/** The slice of the Bedrock runtime client this provider uses (a real client fits; tests pass a fake). */
export interface BedrockRuntimeLike {
  send(
    command: ApplyGuardrailCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<ApplyGuardrailCommandOutput>;
}

/** Guardrail content-filter types → our category names (anything else is lower-cased). */
const CONTENT_CATEGORIES: Readonly<Record<string, string>> = {
  HATE: 'hate',
  INSULTS: 'insult',
  SEXUAL: 'sexual',
  VIOLENCE: 'violence',
  MISCONDUCT: 'misconduct',
  PROMPT_ATTACK: 'prompt_injection',
};

/** Categories of the policies that intervened, and whether any of them blocked (rather than masked). */
function assess(assessments: readonly GuardrailAssessment[]): { categories: Set<string>; blocked: boolean } {
  const categories = new Set<string>();
  let blocked = false;
  const note = (category: string, action: string | undefined) => {
    if (action === undefined || action === 'NONE') return;
    categories.add(category);
    if (action === 'BLOCKED') blocked = true;
  };
  for (const assessment of assessments) {
    for (const filter of assessment.contentPolicy?.filters ?? []) {
      const type = filter.type ?? 'CONTENT';
      note(CONTENT_CATEGORIES[type] ?? type.toLowerCase(), filter.action);
    }
    for (const topic of assessment.topicPolicy?.topics ?? []) note('denied_topic', topic.action);
    for (const word of assessment.wordPolicy?.customWords ?? []) note('blocklist', word.action);
    for (const word of assessment.wordPolicy?.managedWordLists ?? []) note('profanity', word.action);
    for (const entity of assessment.sensitiveInformationPolicy?.piiEntities ?? []) {
      note(`pii_${(entity.type ?? 'other').toLowerCase()}`, entity.action);
    }
    for (const regex of assessment.sensitiveInformationPolicy?.regexes ?? []) {
      note(`pii_${(regex.name ?? 'regex').toLowerCase()}`, regex.action);
    }
    for (const filter of assessment.contextualGroundingPolicy?.filters ?? []) {
      note(`grounding_${(filter.type ?? 'check').toLowerCase()}`, filter.action);
    }
  }
  return { categories, blocked };
}

export interface BedrockGuardrailClassifierOptions {
  /** Created lazily (and the SDK loaded lazily) when absent. */
  client?: BedrockRuntimeLike;
  region: string;
  guardrailId: string;
  guardrailVersion: string;
}

/**
 * Bedrock `ApplyGuardrail`, standalone (no model call): source INPUT for the user's text, OUTPUT for answers.
 * A guardrail that only masked (PII anonymised) yields `redact` with the guardrail's masked text.
 */
export function createBedrockGuardrailClassifier(options: BedrockGuardrailClassifierOptions): Classifier {
  let client = options.client;
  return {
    provider: 'bedrock-guardrail',
    async classify(text: string, context: ClassifyContext): Promise<ClassifierResult> {
      const sdk = await import('@aws-sdk/client-bedrock-runtime');
      client ??= new sdk.BedrockRuntimeClient({ region: options.region });
      const input: ApplyGuardrailCommandInput = {
        guardrailIdentifier: options.guardrailId,
        guardrailVersion: options.guardrailVersion,
        source: context.direction === 'input' ? 'INPUT' : 'OUTPUT',
        content: [{ text: { text } }],
      };
      const output: ApplyGuardrailCommandOutput = await client.send(
        new sdk.ApplyGuardrailCommand(input),
        context.abortSignal ? { abortSignal: context.abortSignal } : {},
      );
      if (output.action !== 'GUARDRAIL_INTERVENED') return { action: 'allow', categories: [] };
      const { categories, blocked } = assess(output.assessments ?? []);
      const masked = output.outputs?.map((part) => part.text ?? '').join('');
      if (!blocked && categories.size > 0 && masked) {
        return { action: 'redact', categories: [...categories], redactedText: masked };
      }
      return { action: 'block', categories: categories.size > 0 ? [...categories] : ['guardrail'] };
    },
  };
}
