/**
 * Serves the real chat handler in the test process with its own moderation settings, against the shared local
 * stack (emulators, issuer, SageMaker runtime, inference server). Handlers read their configuration once per
 * module graph, so one test file = one moderation configuration.
 */
import OpenAI from 'openai';
import { defaultModerationConfig } from '../../../lambdas/moderation';
import { compileRules } from '../../../lambdas/moderation/rules';
import { startApiServer } from '../../../scripts/local/api';
import { loadLocalConfig } from '../../../scripts/local/config';
import { handlerEnvironment } from '../../../scripts/local/handler-env';
import { freePort } from '../../../scripts/local/ports';
import { apiBase, machineToken, stack } from '../setup/context';
import { SHARED_CLIENT_LIMITS } from '../setup/global';

export const QUESTION = 'Hello';
/** Temperature 0: the local model's (meaningless) answer to QUESTION is fixed. */
export const REQUEST = { model: 'chatstack-local', temperature: 0, max_tokens: 24 } as const;

/** True when a blocklist rule for `word` finds it in `text` (the module's own matching, word boundaries and all). */
export const mentions = (word: string, text: string) =>
  compileRules({ ...defaultModerationConfig(), blocklist: [word] }, 'output').scan(text).length > 0;

/** The words of the shared API's answer to QUESTION that QUESTION itself does not contain. */
export async function answerWords(): Promise<string[]> {
  const reference = new OpenAI({ baseURL: apiBase(), apiKey: await machineToken('a'), maxRetries: 0 });
  const answer =
    (await reference.chat.completions.create({ ...REQUEST, messages: [{ role: 'user', content: QUESTION }] }))
      .choices[0]?.message.content ?? '';
  const words = [...new Set(answer.match(/[A-Za-z]+/g) ?? [])]
    .filter((word) => mentions(word, answer) && !mentions(word, QUESTION))
    .slice(0, 20);
  if (words.length === 0)
    throw new Error(`No word to block in the local model's answer ${JSON.stringify(answer)}`);
  return words;
}

export interface ModeratedApi {
  /** Base URL of the API (`…/v1` is the OpenAI base URL). */
  readonly url: string;
  /** An OpenAI client for dev-client-a against this API. */
  client(): Promise<OpenAI>;
  close(): Promise<void>;
}

/** Starts the API adapter in this process with the local handler environment plus `moderationEnv`. */
export async function startModeratedApi(moderationEnv: Record<string, string>): Promise<ModeratedApi> {
  const urls = stack();
  const env = {
    ...handlerEnvironment(
      { config: loadLocalConfig({}), urls, webEnabled: false, modelPath: '', modelName: REQUEST.model },
      'chatstack-api',
    ),
    ...SHARED_CLIENT_LIMITS,
    ...moderationEnv,
  };
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(env)) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  const api = await startApiServer({
    host: '127.0.0.1',
    port: await freePort(),
    issuer: urls.issuer,
    webOrigin: urls.web,
  });
  return {
    url: api.url,
    client: async () =>
      new OpenAI({ baseURL: `${api.url}/v1`, apiKey: await machineToken('a'), maxRetries: 0 }),
    close: async () => {
      await api.close();
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
