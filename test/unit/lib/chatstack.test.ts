import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_WEB_ORIGINS } from '../../../lambdas/contracts/cors';
import { ASYNC_EVENT_SOURCES } from '../../../lambdas/contracts/events';
import { ROUTES } from '../../../lambdas/contracts/routes';
import type { RegionStacks } from '../../../lib/chatstack';
import { FUNCTION_NAMES } from '../../../lib/config';
import { type SynthesizedChatstack, synthChatstack } from './fixtures/synth';

// One synthesis of the whole two-region app, shared by every test in this file.
const SYNTH_TIMEOUT_MS = 300_000;
const PRIMARY = 'us-east-1';
const SECONDARY = 'us-west-2';
/** A Bedrock guardrail lives in one region: each region has its own. */
const GUARDRAIL_IDS = { [PRIMARY]: 'abcd1234efgh', [SECONDARY]: 'wxyz5678ijkl' };

let built: SynthesizedChatstack;
beforeAll(() => {
  built = synthChatstack({
    stage: 'dev',
    regions: [PRIMARY, SECONDARY],
    alarms: { emails: ['ops@example.com'], thresholds: { timeToFirstTokenP99Ms: 1500 } },
    reservedConcurrency: { chat: 50 },
    moderation: {
      provider: 'bedrock-guardrail',
      guardrailId: GUARDRAIL_IDS,
      guardrailVersion: '3',
      blocklist: ['forbidden phrase'],
      failMode: { output: 'closed' },
    },
    customDomain: {
      domainName: 'api.chat.example.com',
      hostedZoneId: 'Z0123456789ABC',
      hostedZoneName: 'chat.example.com',
    },
  });
}, SYNTH_TIMEOUT_MS);

function region(name: string): RegionStacks {
  const stacks = built.stacks.regions.get(name);
  if (!stacks) throw new Error(`no stacks for ${name}`);
  return stacks;
}

describe('stack layout', () => {
  it('deploys one stateful and four stateless stacks per region, identity and web in the primary only', () => {
    const names = built.app.node.children
      .filter((child) => Stack.isStack(child))
      .map((child) => child.node.id)
      .sort();
    expect(names).toEqual(
      [
        ...[PRIMARY, SECONDARY].flatMap((r) =>
          ['data', 'inference', 'async', 'api', 'ops'].map((p) => `chatstack-dev-${p}-${r}`),
        ),
        `chatstack-dev-identity-${PRIMARY}`,
        `chatstack-dev-web-${PRIMARY}`,
        `chatstack-dev-web-config-${PRIMARY}`,
      ].sort(),
    );
    for (const r of [PRIMARY, SECONDARY]) expect(region(r).api.region).toBe(r);
  });

  it('deploys replica-region keys before the primary creates the replicas, and the table before its users', () => {
    const primaryData = region(PRIMARY).data;
    expect(primaryData.dependencies).toContain(region(SECONDARY).data);
    for (const r of [PRIMARY, SECONDARY]) {
      expect(region(r).inference.dependencies).toContain(region(r).data);
      expect(region(r).api.dependencies).toContain(primaryData);
      expect(region(r).async.dependencies).toContain(primaryData);
    }
  });
});

/** `<resource server identifier>/<scope>` as CloudFormation renders it. */
function resourceServerScope(scope: string) {
  return { 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('^IdentityUserPoolApi') }, `/${scope}`]] };
}

describe('1. identity (primary region)', () => {
  const identity = () => built.template(built.stacks.identity);

  it('signs people in by email with a strong password policy, optional TOTP MFA, and retains the pool', () => {
    identity().hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      DeletionProtection: 'ACTIVE',
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
    identity().hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('offers a managed login domain', () => {
    identity().hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: Match.anyValue(),
      ManagedLoginVersion: 2,
    });
    identity().resourceCountIs('AWS::Cognito::ManagedLoginBranding', 1);
  });

  it('defines the chat:read and chat:write scopes on a resource server', () => {
    identity().hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'chatstack',
      Scopes: [
        { ScopeName: 'chat:read', ScopeDescription: Match.anyValue() },
        { ScopeName: 'chat:write', ScopeDescription: Match.anyValue() },
      ],
    });
  });

  it('gives the web app a public authorization-code client with 15-minute access tokens', () => {
    identity().hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: [
        'openid',
        'email',
        'profile',
        resourceServerScope('chat:read'),
        resourceServerScope('chat:write'),
      ],
      CallbackURLs: Match.arrayWith(['http://localhost:5173/']),
      AccessTokenValidity: 15,
      TokenValidityUnits: Match.objectLike({ AccessToken: 'minutes' }),
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('gives machines a confidential client_credentials client', () => {
    identity().hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: [resourceServerScope('chat:read'), resourceServerScope('chat:write')],
      AccessTokenValidity: 15,
    });
  });
});

describe('2. data: a global table with a replica in every region', () => {
  const data = () => built.template(region(PRIMARY).data);

  it('builds the table from the shared definition, on demand, with TTL on expiresAt', () => {
    data().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'gsi2',
          KeySchema: [
            { AttributeName: 'gsi2pk', KeyType: 'HASH' },
            { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it('has a replica in every configured region with PITR, deletion protection and its own KMS key', () => {
    const tables = data().findResources('AWS::DynamoDB::GlobalTable');
    const [table] = Object.values(tables);
    const replicas: {
      Region: string;
      DeletionProtectionEnabled: boolean;
      PointInTimeRecoverySpecification: unknown;
      SSESpecification: { KMSMasterKeyId: unknown };
    }[] = table?.Properties.Replicas ?? [];
    expect(replicas.map((replica) => replica.Region).sort()).toEqual([PRIMARY, SECONDARY]);
    for (const replica of replicas) {
      expect(replica.DeletionProtectionEnabled).toBe(true);
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(replica.SSESpecification.KMSMasterKeyId).toBeDefined();
    }
    const secondary = replicas.find((replica) => replica.Region === SECONDARY);
    expect(JSON.stringify(secondary?.SSESpecification.KMSMasterKeyId)).toContain(`:kms:${SECONDARY}:`);
    expect(JSON.stringify(secondary?.SSESpecification.KMSMasterKeyId)).toContain('alias/chatstack-dev/data');
    data().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
  });

  it('retains the table and the keys when a stack is deleted', () => {
    data().hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    for (const r of [PRIMARY, SECONDARY]) {
      const template = built.template(region(r).data);
      template.hasResource('AWS::KMS::Key', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({ EnableKeyRotation: true }),
      });
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/chatstack-dev/data' });
      template.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          BucketName: `chatstack-dev-models-123456789012-${r}`,
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              Match.objectLike({
                ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
              }),
            ],
          },
        }),
      });
    }
  });

  it('creates the table once: other regions only reference their replica by name', () => {
    built.template(region(SECONDARY).data).resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    const chat = built.template(region(SECONDARY).api).findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'chat' } } },
    });
    const tableName = Object.values(chat)[0]?.Properties.Environment.Variables.TABLE_NAME;
    expect(tableName).toMatchObject({
      'Fn::GetStackOutput': { StackName: `chatstack-dev-data-${PRIMARY}`, Region: PRIMARY },
    });
  });
});

describe('3. API per region', () => {
  const api = (r = PRIMARY) => built.template(region(r).api);

  it('is a regional REST API with X-Ray, JSON access logs and stage throttling', () => {
    api().hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    api().hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('^\\{"requestId":"\\$context.requestId"'),
      },
      MethodSettings: [
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR' }),
      ],
    });
    api().hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('authorizes every route of ROUTES with the Lambda REQUEST authorizer (tokens and API keys)', () => {
    const methods = api().findResources('AWS::ApiGateway::Method', {
      Properties: { AuthorizationType: 'CUSTOM' },
    });
    const authorized = Object.values(methods)
      .map((method) => method.Properties.HttpMethod)
      .sort();
    expect(authorized).toEqual(
      ROUTES.filter((route) => route.scopes.length > 0)
        .map((r) => r.method)
        .sort(),
    );
    api().hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'REQUEST' });
  });

  it('verifies tokens of the primary region’s user pool in every region', () => {
    api(SECONDARY).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          AUTH_ISSUER: {
            'Fn::Join': [
              '',
              [
                `https://cognito-idp.${PRIMARY}.amazonaws.com/`,
                {
                  'Fn::GetStackOutput': Match.objectLike({
                    StackName: `chatstack-dev-identity-${PRIMARY}`,
                    Region: PRIMARY,
                  }),
                },
              ],
            ],
          },
          AUTH_SCOPE_PREFIX: 'chatstack/',
        }),
      },
    });
  });

  it('streams the chat method from Lambda (ResponseTransferMode STREAM), other methods are buffered', () => {
    api().hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: Match.objectLike({
        Type: 'AWS_PROXY',
        ResponseTransferMode: 'STREAM',
        TimeoutInMillis: 300_000,
        Uri: Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('response-streaming-invocations')])],
        }),
      }),
    });
    const streamed = api().findResources('AWS::ApiGateway::Method', {
      Properties: { Integration: { ResponseTransferMode: 'STREAM' } },
    });
    expect(Object.keys(streamed)).toHaveLength(ROUTES.filter((route) => route.streaming).length);
  });

  it('validates request bodies against models derived from the zod schemas', () => {
    api().hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    api().hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({
        $schema: 'http://json-schema.org/draft-04/schema#',
        type: 'object',
        required: ['messages'],
        additionalProperties: false,
        properties: Match.objectLike({
          messages: Match.objectLike({ type: 'array', maxItems: 50 }),
        }),
      }),
    });
    api().hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestModels: { 'application/json': Match.anyValue() },
      Integration: Match.objectLike({ ResponseTransferMode: 'STREAM' }),
    });
  });

  it.each([
    ['UNAUTHORIZED', '401', 'authentication_error', 'invalid_token'],
    // The authorizer names the code: `insufficient_scope`, or `account_suspended` for a suspended account.
    ['ACCESS_DENIED', '403', 'permission_error', '\\$context\\.authorizer\\.denial_code'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'invalid_request_error', 'unknown_url'],
    ['BAD_REQUEST_BODY', '400', 'invalid_request_error', 'invalid_request'],
    ['REQUEST_TOO_LARGE', '413', 'invalid_request_error', 'request_too_large'],
    ['THROTTLED', '429', 'rate_limit_error', 'rate_limit_exceeded'],
    ['QUOTA_EXCEEDED', '429', 'rate_limit_error', 'quota_exceeded'],
    ['INTEGRATION_TIMEOUT', '504', 'server_error', 'timeout'],
    ['DEFAULT_4XX', undefined, 'invalid_request_error', 'gateway_error'],
    ['DEFAULT_5XX', undefined, 'server_error', 'gateway_error'],
  ])(
    'answers the gateway’s %s with %s and the OpenAI error object, readable by the web app',
    (type, status, errorType, code) => {
      api(SECONDARY).hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status ?? Match.absent(),
        ResponseParameters: Match.objectLike({
          // A dev stage allows the web app and the locally served one: the gateway echoes the request's origin
          // (it cannot test it against the list) and says the answer varies by it.
          'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.Origin',
          'gatewayresponse.header.Vary': "'Origin'",
        }),
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp(
            `^\\{"error":\\{"message":.+,"type":"${errorType}","param":null,"code":"${code}"\\}\\}$`,
          ),
        },
      });
    },
  );

  it('says "unknown URL" rather than API Gateway’s "Missing Authentication Token" for a path no route has', () => {
    api().hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      ResponseTemplates: {
        'application/json':
          '{"error":{"message":"Unknown request URL.","type":"invalid_request_error","param":null,"code":"unknown_url"}}',
      },
    });
  });

  it('tells throttled clients when to retry and rejected tokens why, like the local adapter', () => {
    api().hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.retry-after': "'1'" }),
    });
    api().hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.WWW-Authenticate': `'Bearer error="invalid_token"'`,
      }),
    });
  });

  it('throttles the whole stage and has no usage plan (without API keys one would meter nobody)', () => {
    api().hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ]),
    });
    api().resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  it('tells every API function all the origins it may answer (the web app and, in dev, the local one)', () => {
    const stack = region(PRIMARY).api;
    const functions = api().findResources('AWS::Lambda::Function');
    // The functions behind the routes answer browsers; the authorizer and the ingest workers never do.
    for (const each of Object.values(stack.functions)) {
      const logicalId = stack.getLogicalId(each.lambda.node.defaultChild as CfnElement);
      const origins = JSON.stringify(functions[logicalId]?.Properties.Environment?.Variables?.WEB_ORIGIN);
      expect(origins, each.serviceName).toContain('https://');
      for (const local of LOCAL_WEB_ORIGINS) expect(origins).toContain(local);
    }
  });

  it('allows CORS from the web app with the OpenAI SDK headers', () => {
    api().hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: Match.objectLike({
        IntegrationResponses: [
          Match.objectLike({
            ResponseParameters: Match.objectLike({
              'method.response.header.Access-Control-Allow-Headers':
                Match.stringLikeRegexp('X-Stainless-Retry-Count'),
            }),
          }),
        ],
      }),
    });
  });

  it('protects the stage with a WAF web ACL: AWS common rules (large bodies allowed) and a per-IP rate rule', () => {
    api().hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Statement: {
            RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 },
          },
          Action: { Block: Match.anyValue() },
        }),
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              VendorName: 'AWS',
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            }),
          },
        }),
      ]),
    });
    api().resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('serves the custom domain from every region through latency records with health checks', () => {
    for (const r of [PRIMARY, SECONDARY]) {
      const template = api(r);
      template.hasResourceProperties('AWS::ApiGateway::DomainName', {
        DomainName: 'api.chat.example.com',
        EndpointConfiguration: { Types: ['REGIONAL'] },
        SecurityPolicy: 'TLS_1_2',
      });
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'api.chat.example.com.',
        Type: 'A',
        Region: r,
        SetIdentifier: `chatstack-${r}`,
        HealthCheckId: Match.anyValue(),
      });
      template.hasResourceProperties('AWS::Route53::HealthCheck', {
        HealthCheckConfig: Match.objectLike({
          Type: 'CLOUDWATCH_METRIC',
          AlarmIdentifier: Match.objectLike({ Region: r }),
        }),
      });
    }
  });
});

describe('4. functions', () => {
  const allFunctions = () =>
    [PRIMARY, SECONDARY].flatMap((r) =>
      [region(r).api, region(r).async].flatMap((stack) =>
        Object.values(built.template(stack).findResources('AWS::Lambda::Function')),
      ),
    );

  it('runs every application function on Node.js 22, arm64, with X-Ray and its own log group', () => {
    const ours = allFunctions().filter((fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
    const names = new Set(ours.map((fn) => fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME));
    expect([...names].sort()).toEqual([...FUNCTION_NAMES].sort());
    for (const fn of ours) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: expect.anything() },
      });
    }
  });

  it('sets reserved concurrency from the configuration', () => {
    built.template(region(PRIMARY).api).hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 50,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'chat' }) },
    });
  });

  it('gives the chat function its table, endpoint and stream through grants (variables and IAM together)', () => {
    const api = built.template(region(PRIMARY).api);
    api.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'chat',
          TABLE_NAME: Match.anyValue(),
          INFERENCE_ENDPOINTS: Match.anyValue(),
          EVENTS_STREAM_NAME: Match.anyValue(),
          QUOTA_REQUESTS_PER_MINUTE: '60',
        }),
      },
      Timeout: 300,
    });
    api.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ChatFunctionServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['dynamodb:PutItem', 'dynamodb:Query']) }),
          Match.objectLike({
            Action: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
          }),
        ]),
      },
    });
  });

  /** The environment of the function whose `service` is `name`, in `stack`. */
  function variablesOf(stack: Stack, name: string): Record<string, unknown> {
    const fns = Object.values(built.template(stack).findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === name,
    );
    expect(fns).toHaveLength(1);
    return fns[0]?.Properties.Environment.Variables;
  }

  it('lets the chat function and the jobs worker apply only their region’s guardrail, with MODERATION_* set', () => {
    for (const [r, stack, role, name] of [
      [PRIMARY, region(PRIMARY).api, '^ChatFunctionServiceRole', 'chat'],
      [SECONDARY, region(SECONDARY).async, '^JobsWorkerFunctionServiceRole', 'jobs-worker'],
    ] as const) {
      built.template(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(role) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: 'bedrock:ApplyGuardrail',
              Effect: 'Allow',
              Resource: `arn:aws:bedrock:${r}:123456789012:guardrail/${GUARDRAIL_IDS[r]}`,
            },
          ]),
        },
      });
      expect(variablesOf(stack, name)).toMatchObject({
        MODERATION_PROVIDER: 'bedrock-guardrail',
        GUARDRAIL_ID: GUARDRAIL_IDS[r],
        GUARDRAIL_VERSION: '3',
        MODERATION_BLOCKLIST: 'forbidden phrase',
        MODERATION_FAIL_MODE_INPUT: 'closed',
        MODERATION_FAIL_MODE_OUTPUT: 'closed',
        MODERATION_TIMEOUT_MS: '1500',
      });
    }
  });

  it('gives no other function the guardrail or the moderation settings', () => {
    for (const r of [PRIMARY, SECONDARY]) {
      for (const stack of [region(r).api, region(r).async]) {
        const template = built.template(stack);
        for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
          if (JSON.stringify(policy.Properties.PolicyDocument).includes('bedrock:ApplyGuardrail')) {
            expect(id).toMatch(/^(ChatFunction|JobsWorkerFunction)ServiceRoleDefaultPolicy/);
          }
        }
      }
      for (const name of ['models', 'conversations', 'me', 'jobs', 'client-errors']) {
        expect(variablesOf(region(r).api, name)).not.toHaveProperty('MODERATION_PROVIDER');
      }
      for (const name of ['jobs-dlq', 'usage-aggregator', 'audit']) {
        expect(variablesOf(region(r).async, name)).not.toHaveProperty('MODERATION_PROVIDER');
      }
    }
  });

  it('sets log retention on every function log group', () => {
    for (const r of [PRIMARY, SECONDARY]) {
      for (const stack of [region(r).api, region(r).async]) {
        const groups = Object.values(built.template(stack).findResources('AWS::Logs::LogGroup'));
        expect(groups.length).toBeGreaterThan(0);
        for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
      }
    }
  });
});

describe('5. inference per region', () => {
  const inference = (r = PRIMARY) => built.template(region(r).inference);

  it('serves vLLM from the region’s LMI image with weights from S3, uncompressed', () => {
    for (const r of [PRIMARY, SECONDARY]) {
      inference(r).hasResourceProperties('AWS::SageMaker::Model', {
        EnableNetworkIsolation: true,
        PrimaryContainer: {
          Image: `763104351884.dkr.ecr.${r}.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128`,
          Environment: Match.objectLike({
            OPTION_ROLLING_BATCH: 'vllm',
            OPTION_MAX_ROLLING_BATCH_SIZE: '32',
            TENSOR_PARALLEL_DEGREE: 'max',
          }),
          ModelDataSource: {
            S3DataSource: {
              S3Uri: `s3://chatstack-dev-models-123456789012-${r}/models/default/`,
              S3DataType: 'S3Prefix',
              CompressionType: 'None',
            },
          },
        },
      });
    }
  });

  it('runs on GPU instances with a startup health-check window for model load', () => {
    inference().hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({
          InstanceType: 'ml.g5.2xlarge',
          InitialInstanceCount: 1,
          ContainerStartupHealthCheckTimeoutInSeconds: 1200,
          ModelDataDownloadTimeoutInSeconds: 1200,
        }),
      ],
    });
  });

  it('autoscales on the high-resolution concurrent-requests metric', () => {
    inference().hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 1,
      MaxCapacity: 1,
    });
    inference().hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'SageMakerVariantConcurrentRequestsPerModelHighResolution',
        },
        TargetValue: 16,
      }),
    });
  });
});

describe('6. async per region', () => {
  const asyncTemplate = (r = PRIMARY) => built.template(region(r).async);

  const JOBS = ASYNC_EVENT_SOURCES.jobs;
  const EVENTS = ASYNC_EVENT_SOURCES.events;
  /** The event source mappings of the function whose construct id starts with `functionId`. */
  function mappingsOf(functionId: string) {
    return Object.values(
      asyncTemplate().findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: Match.stringLikeRegexp(`^${functionId}Function[0-9A-F]{8}$`) } },
      }),
    ).map((mapping) => mapping.Properties);
  }
  function functionOf(functionId: string) {
    const fns = Object.entries(asyncTemplate().findResources('AWS::Lambda::Function'))
      .filter(([id]) => new RegExp(`^${functionId}Function[0-9A-F]{8}$`).test(id))
      .map(([, fn]) => fn.Properties);
    expect(fns).toHaveLength(1);
    return fns[0];
  }

  it('dead-letters a job after three receives; both queues encrypted, TLS-only, 14-day retention', () => {
    asyncTemplate().hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: JOBS.maxReceiveCount },
      MessageRetentionPeriod: 14 * 86_400,
      SqsManagedSseEnabled: true,
    });
    asyncTemplate().hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.absent(),
      MessageRetentionPeriod: JOBS.deadLetterRetentionDays * 86_400,
    });
    expect(JOBS.maxReceiveCount).toBe(3);
    const queues = Object.values(asyncTemplate().findResources('AWS::SQS::Queue'));
    for (const queue of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(asyncTemplate().findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(queues.length);
    for (const policy of policies) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('hides a received job for six worker timeouts and leases it to the worker for one', () => {
    const worker = functionOf('JobsWorker');
    expect(worker.Timeout).toBe(JOBS.workerTimeoutSeconds);
    expect(worker.Environment.Variables.JOB_LEASE_SECONDS).toBe(String(JOBS.workerTimeoutSeconds));
    asyncTemplate().hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.anyValue(),
      VisibilityTimeout: 6 * JOBS.workerTimeoutSeconds,
    });
  });

  it('feeds the jobs worker from the queue in batches of 10, reporting partial batch failures', () => {
    expect(mappingsOf('JobsWorker')).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^JobsQueue/), 'Arn'] },
        BatchSize: JOBS.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    expect(JOBS.batchSize).toBe(10);
  });

  it('drains the dead-letter queue into jobs-dlq, which may report job.failed events', () => {
    expect(mappingsOf('JobsDlq')).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^JobsDeadLetterQueue/), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    expect(functionOf('JobsDlq').Environment.Variables).toHaveProperty('EVENTS_STREAM_NAME');
  });

  it('streams events through an encrypted on-demand Kinesis stream', () => {
    asyncTemplate().hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  it.each(['UsageAggregator', 'Audit'])(
    'feeds %s from the stream in order, bisecting failing batches and sending what still fails to a queue',
    (functionId) => {
      expect(mappingsOf(functionId)).toEqual([
        expect.objectContaining({
          EventSourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^EventsStream/), 'Arn'] },
          StartingPosition: EVENTS.startingPosition,
          BatchSize: EVENTS.batchSize,
          ParallelizationFactor: EVENTS.parallelizationFactor,
          BisectBatchOnFunctionError: EVENTS.bisectBatchOnFunctionError,
          MaximumRetryAttempts: EVENTS.maxRetryAttempts,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          DestinationConfig: {
            OnFailure: {
              Destination: { 'Fn::GetAtt': [expect.stringMatching(/^EventsFailureQueue/), 'Arn'] },
            },
          },
        }),
      ]);
    },
  );

  it('has exactly the four consumers of the shared contract', () => {
    expect(Object.keys(asyncTemplate().findResources('AWS::Lambda::EventSourceMapping'))).toHaveLength(4);
  });
});

describe('operations per region', () => {
  it('takes alarm thresholds from the stage config', () => {
    built.template(region(SECONDARY).api).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TimeToFirstToken',
      Threshold: 1500,
    });
  });
});

describe('7. web hosting', () => {
  const web = () => built.template(built.stacks.web);

  it('keeps the bucket private behind CloudFront origin access control', () => {
    web().hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    web().resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    web().hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
  });

  it('adds security headers to every response', () => {
    web().hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 31_536_000 }),
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentTypeOptions: { Override: true },
          ContentSecurityPolicy: Match.objectLike({
            ContentSecurityPolicy: Match.stringLikeRegexp("frame-ancestors 'none'"),
          }),
        }),
      }),
    });
  });

  it('writes config.json with the API URL and sign-in settings after the APIs exist', () => {
    const config = built.template(built.stacks.webConfig);
    config.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: 'chatstack-dev-web-123456789012-us-east-1',
      Prune: false,
      SourceMarkers: Match.anyValue(),
    });
    expect(built.stacks.webConfig.dependencies).toEqual(
      expect.arrayContaining([region(PRIMARY).api, region(SECONDARY).api]),
    );
  });
});

describe('8. security checks', () => {
  it('passes the AWS Solutions rules: every finding is fixed or acknowledged with a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(built.app);
    const findings = report.violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });
});
