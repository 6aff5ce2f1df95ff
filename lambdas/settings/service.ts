import type { UserSettings } from '../contracts/api';
import type { ConversationStore } from '../conversations/store';
import type { Moderation } from '../moderation/types';
import { ApiError, ValidationError } from '../shared/errors';
import { updateSettings } from './store';

/** What saving settings needs: the table, the models a user may choose and the moderation rules. */
export interface SettingsDeps {
  readonly store: ConversationStore;
  /** The ids `GET /v1/models` lists. */
  readonly modelIds: () => readonly string[];
  readonly moderation: Pick<Moderation, 'checkMessages'>;
}

/**
 * Text a user puts in front of the model (custom instructions, a conversation's system prompt) is checked when it
 * is saved, as the system message it becomes: a block is a 400 naming the field. (Turns check it again, with the
 * classifier, as part of their input.)
 */
export async function moderateInstructions(
  moderation: Pick<Moderation, 'checkMessages'>,
  text: string,
  field: string,
): Promise<void> {
  if (text === '') return;
  const verdict = await moderation.checkMessages([{ role: 'system', text }]);
  if (verdict.action === 'block') {
    throw new ApiError(
      400,
      'invalid_request_error',
      `The ${field.replaceAll('_', ' ')} were blocked by the content policy (${(verdict.categories[0] ?? 'policy').replaceAll('_', ' ')}); rephrase them and save again.`,
      field,
      'content_filter',
    );
  }
}

/** Validates and saves a settings update, returning the whole settings. */
export async function saveSettings(
  deps: SettingsDeps,
  sub: string,
  update: Partial<UserSettings>,
): Promise<UserSettings> {
  const model = update.default_model;
  if (model !== undefined && model !== null && !deps.modelIds().includes(model)) {
    throw new ValidationError(
      `The model '${model}' does not exist; choose one of GET /v1/models (${deps.modelIds().join(', ')}).`,
      'default_model',
      'model_not_found',
    );
  }
  if (update.custom_instructions !== undefined)
    await moderateInstructions(deps.moderation, update.custom_instructions, 'custom_instructions');
  return updateSettings(deps.store, sub, update);
}

/** Custom instructions take at most this share of a turn's prompt budget; longer ones are cut, never refused. */
export const INSTRUCTIONS_BUDGET_SHARE = 0.25;

/**
 * The system prompt of a turn with the user's custom instructions after it (one system message), the
 * instructions cut to `maxChars` when given (so they never crowd the conversation out of the context).
 */
export function withCustomInstructions(
  systemPrompt: string,
  instructions: string | undefined,
  maxChars: number = Number.POSITIVE_INFINITY,
): string {
  if (instructions === undefined || instructions === '' || maxChars < 1) return systemPrompt;
  const fitted =
    instructions.length <= maxChars ? instructions : `${instructions.slice(0, maxChars).trimEnd()}…`;
  return `${systemPrompt}\n\nThe user's custom instructions (follow them unless they conflict with the above):\n${fitted}`;
}
