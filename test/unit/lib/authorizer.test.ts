/**
 * The API's one authorizer in the cloud: a Lambda REQUEST authorizer on every authenticated method, its answers
 * cached at most a minute (how long a revoked API key may keep working), and access to the API keys in the table
 * limited to what verification needs.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lambdas/contracts/routes';
import { parseStageConfig } from '../../../lib/config';
import { AppFunction } from '../../../lib/constructs/app-function';
import { ChatApi } from '../../../lib/constructs/chat-api';
import { type SynthesizedChatstack, synthChatstack } from './fixtures/synth';

const REGION = 'eu-west-1';
let built: SynthesizedChatstack;
let api: Template;

beforeAll(() => {
  built = synthChatstack({ stage: 'dev', regions: [REGION] });
  const stacks = built.stacks.regions.get(REGION);
  if (!stacks) throw new Error('no stacks');
  api = built.template(stacks.api);
}, 300_000);

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

function authorizerStatements(): Statement[] {
  const policies = api.findResources('AWS::IAM::Policy');
  const entry = Object.entries(policies).find(([id]) => id.startsWith('AuthorizerFunctionServiceRole'));
  if (!entry) throw new Error('no policy for the authorizer function');
  return entry[1].Properties.PolicyDocument.Statement as Statement[];
}

const actionsOf = (statement: Statement) => [statement.Action].flat();

describe('the API authorizer', () => {
  it('is a Lambda REQUEST authorizer keyed on the Authorization header, cached at most 60 seconds', () => {
    const authorizers = Object.values(api.findResources('AWS::ApiGateway::Authorizer'));
    expect(authorizers).toHaveLength(1);
    const [authorizer] = authorizers;
    expect(authorizer?.Properties.Type).toBe('REQUEST');
    expect(authorizer?.Properties.IdentitySource).toBe('method.request.header.Authorization');
    expect(authorizer?.Properties.AuthorizerResultTtlInSeconds).toBeLessThanOrEqual(60);
    expect(JSON.stringify(authorizer?.Properties.AuthorizerUri)).toContain('AuthorizerFunction');
  });

  it('guards every method of every authenticated route, and no method uses a Cognito authorizer', () => {
    const methods = Object.values(api.findResources('AWS::ApiGateway::Method')).filter(
      (method) => method.Properties.HttpMethod !== 'OPTIONS',
    );
    const authorizerId = Object.keys(api.findResources('AWS::ApiGateway::Authorizer'))[0];
    const guarded = methods.filter(
      (method) =>
        method.Properties.AuthorizationType === 'CUSTOM' &&
        method.Properties.AuthorizerId?.Ref === authorizerId,
    );
    expect(guarded).toHaveLength(ROUTES.filter((route) => route.scopes.length > 0).length);
    expect(methods.filter((method) => method.Properties.AuthorizationType === 'COGNITO_USER_POOLS')).toEqual(
      [],
    );
    expect(methods.filter((method) => method.Properties.AuthorizationType === 'NONE')).toHaveLength(
      ROUTES.filter((route) => route.scopes.length === 0).length,
    );
  });

  it('may be invoked by this API only, through its released alias', () => {
    api.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: Match.stringLikeRegexp('^AuthorizerFunctionAliaslive') },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/authorizers/')])],
      }),
    });
  });

  it('is told the issuer, the allowed app clients and the scope prefix of the user pool', () => {
    api.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          AUTH_ISSUER: Match.anyValue(),
          AUTH_CLIENT_IDS: Match.anyValue(),
          AUTH_SCOPE_PREFIX: 'chatstack/',
          TABLE_NAME: Match.anyValue(),
          EVENTS_STREAM_NAME: Match.anyValue(),
        }),
      },
    });
  });

  it('refuses a result cache longer than a minute', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '123456789012', region: REGION } });
    const fn = (name: 'chat' | 'authorizer') =>
      new AppFunction(stack, name, { functionName: name, description: name, logRetention: 7 });
    const chat = fn('chat');
    const config = parseStageConfig({ stage: 'dev', regions: [REGION] });
    expect(
      () =>
        new ChatApi(stack, 'Api', {
          functions: {
            chat,
            models: chat,
            conversations: chat,
            me: chat,
            jobs: chat,
            'client-errors': chat,
            'api-keys': chat,
            files: chat,
            admin: chat,
          },
          authorizer: fn('authorizer'),
          authorizerCacheTtl: Duration.minutes(5),
          allowedOrigins: ['https://chat.example.com'],
          stageName: 'dev',
          logRetention: 7,
          throttleRatePerSecond: 10,
          throttleBurst: 20,
          wafRequestsPer5MinutesPerIp: 1000,
          maxCompletionTokens: config.quotas.maxCompletionTokens,
          streamTimeout: Duration.minutes(5),
        }),
    ).toThrow(/authorizerCacheTtl is 300 s: at most 60 s/);
  });
});

describe('the authorizer’s access to the API keys in the table', () => {
  it('reads keys only through the key-hash index, and of the table only the suspension items', () => {
    const reads = authorizerStatements().filter((statement) =>
      actionsOf(statement).some((action) => /^dynamodb:(Get|BatchGet|Query|Scan)/.test(action)),
    );
    expect(reads).toHaveLength(2);
    const [query, get] = [
      reads.find((statement) => actionsOf(statement).includes('dynamodb:Query')),
      reads.find((statement) => actionsOf(statement).includes('dynamodb:GetItem')),
    ];
    expect(actionsOf(query as Statement)).toEqual(['dynamodb:Query']);
    const resource = JSON.stringify(query?.Resource);
    expect(resource).toMatch(/\/index\/gsi2"/);
    expect(resource).not.toContain('gsi1');
    // A suspended account is refused at once: GetItem of `SUSPENSION#<sub>` items, nothing else of the table.
    expect(actionsOf(get as Statement)).toEqual(['dynamodb:GetItem']);
    expect(get?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SUSPENSION#*'] },
    });
  });

  it('writes nothing but a key’s last-used time, and gets nothing back', () => {
    const writes = authorizerStatements().filter((statement) =>
      actionsOf(statement).some((action) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(action)),
    );
    expect(writes).toHaveLength(1);
    expect(actionsOf(writes[0] as Statement)).toEqual(['dynamodb:UpdateItem']);
    expect(writes[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'lastUsedAt'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
    });
  });

  it('may write auth.failed events to the stream and touch nothing else', () => {
    const services = new Set(
      authorizerStatements().flatMap((statement) =>
        actionsOf(statement).map((action) => action.split(':')[0]),
      ),
    );
    // X-Ray writes come from the stack's one shared tracing policy.
    expect([...services].sort()).toEqual(['dynamodb', 'kinesis', 'kms']);
  });
});
