import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  forwardAlarms,
  parseWebhookSecret,
  SlackDeliveryError,
  secretWebhookSource,
  WEBHOOK_CACHE_MS,
} from '../../../lambdas/alerts-slack/handler';
import alarmEvent from '../../fixtures/events/alarm-sns.json';

/** One local server plays both Secrets Manager (JSON 1.1 protocol) and the Slack incoming webhook. */
let server: Server;
let baseUrl: string;
let secretReads = 0;
let slackStatus = 200;
let secretString = '';
const slackPosts: unknown[] = [];

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    if (request.headers['x-amz-target'] === 'secretsmanager.GetSecretValue') {
      secretReads += 1;
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ Name: 'slack-webhook', SecretString: secretString }));
      return;
    }
    if (request.url === '/services/T000/B000/hook') {
      slackPosts.push(JSON.parse(body));
      response.writeHead(slackStatus, { 'content-type': 'text/plain' });
      response.end(slackStatus === 200 ? 'ok' : 'invalid_blocks');
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  secretReads = 0;
  slackStatus = 200;
  slackPosts.length = 0;
  secretString = `${baseUrl}/services/T000/B000/hook`;
});

function secretsClient(): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: baseUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

describe('forwardAlarms', () => {
  it('posts the formatted alarm to the webhook read from Secrets Manager', async () => {
    const source = secretWebhookSource(secretsClient(), 'slack-webhook');

    await forwardAlarms(structuredClone(alarmEvent) as SNSEvent, source);

    expect(slackPosts).toHaveLength(1);
    expect(slackPosts[0]).toMatchObject({ text: expect.stringContaining('ALARM: ChatstackOps-Monitoring') });
  });

  it('reads the secret once and reuses it until the cache expires', async () => {
    let nowMs = 1_000_000;
    const source = secretWebhookSource(secretsClient(), 'slack-webhook', () => nowMs);

    await forwardAlarms(structuredClone(alarmEvent) as SNSEvent, source);
    await forwardAlarms(structuredClone(alarmEvent) as SNSEvent, source);
    expect(secretReads).toBe(1);

    nowMs += WEBHOOK_CACHE_MS + 1;
    await forwardAlarms(structuredClone(alarmEvent) as SNSEvent, source);
    expect(secretReads).toBe(2);
  });

  it('accepts a JSON secret with a webhookUrl field', async () => {
    secretString = JSON.stringify({ webhookUrl: `${baseUrl}/services/T000/B000/hook` });

    await forwardAlarms(
      structuredClone(alarmEvent) as SNSEvent,
      secretWebhookSource(secretsClient(), 'slack-webhook'),
    );

    expect(slackPosts).toHaveLength(1);
  });

  it('fails the invocation when Slack refuses the message, so it is retried', async () => {
    slackStatus = 400;

    await expect(
      forwardAlarms(
        structuredClone(alarmEvent) as SNSEvent,
        secretWebhookSource(secretsClient(), 'slack-webhook'),
      ),
    ).rejects.toBeInstanceOf(SlackDeliveryError);
  });
});

describe('parseWebhookSecret', () => {
  it('refuses a plain-http webhook outside localhost without echoing the value', () => {
    expect(() => parseWebhookSecret('http://hooks.example.com/secret-path')).toThrow(/must use https/);
    expect(() => parseWebhookSecret('not a url secret-path')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret-path') }),
    );
  });
});
