import type * as z from 'zod';
import type { ConversationPatch } from '../contracts/api';
import { createModeration, moderationConfigFromEnv } from '../moderation';
import type { Moderation } from '../moderation/types';
import { indexTitle } from '../search/index-store';
import { moderateInstructions } from '../settings/service';
import { config } from '../shared/config';
import { type ConversationRecord, type ConversationStore, updateConversation } from './store';

/** Pins, renames and system prompts of `PATCH /v1/conversations/{id}` (the handler stays a thin router). */

let moderation: Moderation | undefined;

/**
 * `PATCH /v1/conversations/{id}`: a rename (which the title job never overwrites, and which the search index
 * follows), a pin, a system prompt (checked by the moderation rules first; empty or null removes it), a branch.
 */
export async function patchConversation(
  store: ConversationStore,
  sub: string,
  conversationId: string,
  patch: z.infer<typeof ConversationPatch>,
  currentMessageId: string | undefined,
): Promise<ConversationRecord> {
  const systemPrompt = patch.system_prompt === '' ? null : patch.system_prompt;
  if (typeof systemPrompt === 'string') {
    moderation ??= createModeration({ config: moderationConfigFromEnv(config()) });
    await moderateInstructions(moderation, systemPrompt, 'system_prompt');
  }
  const updated = await updateConversation(store, sub, conversationId, {
    title: patch.title,
    currentMessageId,
    pinned: patch.pinned,
    systemPrompt,
  });
  if (patch.title !== undefined) await indexTitle(store, sub, conversationId, updated.title);
  return updated;
}
