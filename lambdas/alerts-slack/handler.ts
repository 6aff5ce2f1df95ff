import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import { EnvName } from '../contracts/env';
import { logger, tracer } from '../shared/powertools';
import { formatSnsMessage, type SlackMessage } from './format';

/** How long the webhook URL is cached: short enough that a rotated secret takes effect within minutes. */
export const WEBHOOK_CACHE_MS = 5 * 60 * 1000;

export class SlackDeliveryError extends Error {}

export interface WebhookSource {
  /** The webhook URL; cached between invocations. Never log it: it is a credential. */
  webhookUrl(): Promise<string>;
}

/** Reads the webhook URL from a Secrets Manager secret: the URL itself, or JSON `{"webhookUrl": "…"}`. */
export function secretWebhookSource(
  client: SecretsManagerClient,
  secretName: string,
  now: () => number = Date.now,
): WebhookSource {
  let cached: { url: string; expiresAtMs: number } | undefined;
  return {
    async webhookUrl() {
      if (cached && cached.expiresAtMs > now()) return cached.url;
      const secret = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
      const url = parseWebhookSecret(secret.SecretString);
      cached = { url, expiresAtMs: now() + WEBHOOK_CACHE_MS };
      return url;
    },
  };
}

export function parseWebhookSecret(secretString: string | undefined): string {
  if (secretString === undefined || secretString.trim().length === 0) {
    throw new Error('The Slack webhook secret is empty.');
  }
  let candidate = secretString.trim();
  if (candidate.startsWith('{')) {
    const value: unknown = JSON.parse(candidate);
    const url =
      typeof value === 'object' && value !== null ? (value as Record<string, unknown>).webhookUrl : undefined;
    if (typeof url !== 'string') throw new Error('The Slack webhook secret JSON has no "webhookUrl" string.');
    candidate = url;
  }
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    // The message deliberately leaves the value out.
    throw new Error('The Slack webhook secret is not a URL.');
  }
  const local = parsed.hostname === 'localhost' || parsed.hostname === '127.0.0.1';
  if (parsed.protocol !== 'https:' && !local) throw new Error('The Slack webhook URL must use https.');
  return candidate;
}

/** Posts a message to the incoming webhook; a non-2xx answer throws so SNS/Lambda retry the delivery. */
export async function postToSlack(webhookUrl: string, message: SlackMessage): Promise<void> {
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    const detail = (await response.text()).slice(0, 200);
    throw new SlackDeliveryError(`Slack answered ${response.status}: ${detail}`);
  }
}

/** Formats and forwards every SNS record of the batch. */
export async function forwardAlarms(event: SNSEvent, source: WebhookSource): Promise<void> {
  const url = await source.webhookUrl();
  for (const record of event.Records) {
    const message = formatSnsMessage(record.Sns.Message, record.Sns.Subject);
    await postToSlack(url, message);
    logger.info('alert forwarded to Slack', { messageId: record.Sns.MessageId, summary: message.text });
  }
}

let source: WebhookSource | undefined;
function webhookSource(): WebhookSource {
  const secretName = process.env[EnvName.slackWebhookSecretName];
  if (!secretName) throw new Error(`Missing required environment variable ${EnvName.slackWebhookSecretName}`);
  source ??= secretWebhookSource(tracer.captureAWSv3Client(new SecretsManagerClient({})), secretName);
  return source;
}

export const handler = middy<SNSEvent, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => forwardAlarms(event, webhookSource()));
