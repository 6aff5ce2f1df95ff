import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UserSettings } from '../contracts/api';
import { keys } from '../contracts/keys';
import type { ConversationStore } from '../conversations/store';

/** A user's settings, one item in their partition (`SETTINGS`); none stored reads as the defaults. */

export const DEFAULT_SETTINGS: UserSettings = { custom_instructions: '', default_model: null };

export function settingsOf(item: Record<string, unknown> | undefined): UserSettings {
  if (!item) return DEFAULT_SETTINGS;
  return {
    custom_instructions: typeof item.customInstructions === 'string' ? item.customInstructions : '',
    default_model: typeof item.defaultModel === 'string' ? item.defaultModel : null,
  };
}

export async function getSettings(store: ConversationStore, sub: string): Promise<UserSettings> {
  const result = await store.db.send(new GetCommand({ TableName: store.tableName, Key: keys.settings(sub) }));
  return settingsOf(result.Item);
}

/** Changes the fields given (an empty text or `null` model clears one) and returns the whole settings. */
export async function updateSettings(
  store: ConversationStore,
  sub: string,
  update: Partial<UserSettings>,
): Promise<UserSettings> {
  const sets: string[] = ['#type = :type', 'updatedAt = :now'];
  const removes: string[] = [];
  const values: Record<string, unknown> = { ':type': 'settings', ':now': new Date().toISOString() };
  if (update.custom_instructions !== undefined) {
    if (update.custom_instructions === '') removes.push('customInstructions');
    else {
      sets.push('customInstructions = :instructions');
      values[':instructions'] = update.custom_instructions;
    }
  }
  if (update.default_model !== undefined) {
    if (update.default_model === null) removes.push('defaultModel');
    else {
      sets.push('defaultModel = :model');
      values[':model'] = update.default_model;
    }
  }
  const result = await store.db.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: keys.settings(sub),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }),
  );
  return settingsOf(result.Attributes);
}
