import type { UserSettings } from '../contracts/api';
import type { ConversationStore } from '../conversations/store';
import { modelList } from '../models/handler';
import { createModeration, moderationConfigFromEnv } from '../moderation';
import type { Moderation } from '../moderation/types';
import { saveSettings } from '../settings/service';
import { getSettings } from '../settings/store';
import { config } from '../shared/config';

let moderation: Moderation | undefined;

/**
 * `GET/PUT /v1/me/settings`. Saved text is checked with the moderation rules (injection, blocklist); the
 * classifier judges it on every turn with the rest of the input (this function has no classifier access).
 */
export function settingsRoute(
  store: ConversationStore,
  sub: string,
  update: Partial<UserSettings> | undefined,
): Promise<UserSettings> {
  if (update === undefined) return getSettings(store, sub);
  moderation ??= createModeration({ config: moderationConfigFromEnv(config()) });
  return saveSettings(
    { store, moderation, modelIds: () => modelList().data.map((model) => model.id) },
    sub,
    update,
  );
}
