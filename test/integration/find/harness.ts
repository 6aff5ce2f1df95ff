/**
 * Users of their own for the settings tests: a user's custom instructions change every turn they take, so they
 * are tested on fresh `sub`s, never on the two clients every test file shares. The real chat pipeline, `me` and
 * `conversations` handlers run in this process against the shared local stack (table, SageMaker runtime,
 * inference server), wired as the local api process wires them.
 */
import type { ChatCompletionRequest } from '../../../lambdas/contracts/api';
import { loadLocalConfig } from '../../../scripts/local/config';
import { handlerEnvironment } from '../../../scripts/local/handler-env';
import { type ApiHandler, apiEvent, lambdaContext } from '../limits/harness';
import { stack } from '../setup/context';
import { SHARED_CLIENT_LIMITS } from '../setup/global';

export interface FreshUsers {
  /** One chat turn of `sub` through the real pipeline (not streamed). */
  chat(
    sub: string,
    request: Omit<ChatCompletionRequest, 'model'>,
  ): Promise<{ conversationId: string; text: string }>;
  /** A REST call of `sub` to the real handler serving the route. */
  call(
    sub: string,
    method: string,
    url: string,
    body?: unknown,
  ): Promise<{ status: number; json: () => ReturnType<typeof JSON.parse> }>;
}

export async function freshUsers(): Promise<FreshUsers> {
  Object.assign(process.env, {
    ...handlerEnvironment(
      {
        config: loadLocalConfig({}),
        urls: stack(),
        webEnabled: false,
        modelPath: '',
        modelName: 'chatstack-local',
      },
      'chatstack-test',
    ),
    ...SHARED_CLIENT_LIMITS,
    POWERTOOLS_METRICS_DISABLED: 'true',
    // The handlers log every decision; the test output keeps only their errors.
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const [{ config }, { createChatDeps }, { runTurn }, me, conversations] = await Promise.all([
    import('../../../lambdas/shared/config'),
    import('../../../lambdas/chat/deps'),
    import('../../../lambdas/chat/pipeline'),
    import('../../../lambdas/me/handler'),
    import('../../../lambdas/conversations/handler'),
  ]);
  const deps = createChatDeps(config());
  const handlers: Record<string, ApiHandler> = {
    me: me.handler as unknown as ApiHandler,
    conversations: conversations.handler as unknown as ApiHandler,
  };
  return {
    chat: async (sub, request) => {
      const record = await runTurn(deps, { sub, requestId: crypto.randomUUID() }, {
        model: 'chatstack-local',
        ...request,
      } as ChatCompletionRequest);
      if (record.error) throw new Error(`the turn failed: ${JSON.stringify(record.error)}`);
      return {
        conversationId: record.completion.conversation_id,
        text: record.completion.choices[0]?.message.content ?? '',
      };
    },
    call: async (sub, method, url, body) => {
      const handler = url.startsWith('/v1/me') ? handlers.me : handlers.conversations;
      if (!handler) throw new Error(`no handler for ${url}`);
      const result = await handler(apiEvent(sub, method, url, body), lambdaContext);
      return { status: result.statusCode, json: () => JSON.parse(result.body) };
    },
  };
}
