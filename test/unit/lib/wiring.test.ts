import { type Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ManagedPolicy, Policy } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RegionStacks } from '../../../lib/chatstack';
import { type SynthesizedChatstack, synthChatstack } from './fixtures/synth';

// One synthesis of a three-region app (so fallback order shows), shared by every test in this file.
const SYNTH_TIMEOUT_MS = 300_000;
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'] as const;
const [PRIMARY, SECOND, THIRD] = REGIONS;

let built: SynthesizedChatstack;
beforeAll(() => {
  built = synthChatstack({ regions: [...REGIONS], chatProvisionedConcurrency: 5 });
}, SYNTH_TIMEOUT_MS);

function region(name: string): RegionStacks {
  const stacks = built.stacks.regions.get(name);
  if (!stacks) throw new Error(`no stacks for ${name}`);
  return stacks;
}
// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is untyped JSON.
type Json = any;
type Resource = { Properties: Record<string, Json> };
const resources = (stack: Stack, type: string): Record<string, Resource> =>
  built.template(stack).findResources(type) as Record<string, Resource>;

/** The function (logical id and properties) whose `service` is `name`. */
function fn(stack: Stack, name: string): [string, Record<string, Json>] {
  const found = Object.entries(resources(stack, 'AWS::Lambda::Function')).filter(
    ([, each]) => each.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === name,
  );
  expect(found).toHaveLength(1);
  const [id, each] = found[0] ?? ['', { Properties: {} }];
  return [id, each.Properties];
}

/** Every statement of the policies attached to the role of the function `name`. */
function statementsOf(stack: Stack, name: string): Record<string, Json>[] {
  const roleId = fn(stack, name)[1].Role['Fn::GetAtt'][0];
  return Object.values(resources(stack, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}
const actionsOf = (statement: Record<string, Json>): string[] => [statement.Action].flat();
const tableStatements = (stack: Stack, name: string) =>
  statementsOf(stack, name).filter((statement) =>
    actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
  );

describe('provisioned concurrency', () => {
  it('keeps the configured environments warm on the chat function’s live alias', () => {
    built.template(region(PRIMARY).api).hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 5 },
    });
  });

  it('has the streamed chat methods (answers, re-attached answers, responses and re-read responses) invoke that alias, not the unqualified function', () => {
    const api = region(PRIMARY).api;
    const aliasId = chatAliasId(api);
    const chatMethods = Object.values(resources(api, 'AWS::ApiGateway::Method')).filter(
      (method) => method.Properties.Integration?.ResponseTransferMode === 'STREAM',
    );
    expect(chatMethods).toHaveLength(4);
    for (const method of chatMethods) {
      const uri = JSON.stringify(method.Properties.Integration.Uri);
      expect(uri).toContain(`"Ref":"${aliasId}"`);
      expect(uri).not.toContain(`"${fn(api, 'chat')[0]}"`);
    }
    // API Gateway may invoke the alias (the permission names it).
    built.template(api).hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { Ref: aliasId },
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('keeps the other functions’ live aliases cold (they have no provisioned concurrency)', () => {
    const aliases = Object.values(resources(region(PRIMARY).api, 'AWS::Lambda::Alias'));
    expect(aliases.filter((alias) => alias.Properties.ProvisionedConcurrencyConfig)).toHaveLength(1);
  });
});

/** The logical id of the chat function's `live` alias. */
function chatAliasId(api: Stack): string {
  const chat = fn(api, 'chat')[0];
  const [id] =
    Object.entries(resources(api, 'AWS::Lambda::Alias')).find(
      ([, alias]) => alias.Properties.FunctionName.Ref === chat,
    ) ?? [];
  if (id === undefined) throw new Error('the chat function has no alias');
  return id;
}

describe('cross-region fallback', () => {
  const endpointVariable = (stack: Stack, name: string) =>
    JSON.stringify(fn(stack, name)[1].Environment.Variables.INFERENCE_ENDPOINTS);
  const invokeResources = (stack: Stack, name: string) =>
    JSON.stringify(
      statementsOf(stack, name).find((statement) =>
        actionsOf(statement).includes('sagemaker:InvokeEndpointWithResponseStream'),
      )?.Resource,
    );

  it.each([
    ['chat', 'api'],
    ['jobs-worker', 'async'],
  ] as const)(
    'names the other regions’ endpoints after its own for %s, in configuration order',
    (name, part) => {
      for (const [own, ...others] of [
        [PRIMARY, SECOND, THIRD],
        [SECOND, PRIMARY, THIRD],
        [THIRD, PRIMARY, SECOND],
      ] as const) {
        const value = endpointVariable(region(own)[part], name);
        // Own endpoint first, by name (a reference within the region); fallbacks by ARN in their region.
        const positions = others.map((other) => value.indexOf(`:sagemaker:${other}:`));
        expect(
          positions.every((position) => position > 0),
          `${own} ${value}`,
        ).toBe(true);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(value).not.toContain(`:sagemaker:${own}:`);
      }
    },
  );

  it.each([
    ['chat', 'api'],
    ['jobs-worker', 'async'],
  ] as const)('lets %s invoke its own endpoint and every fallback', (name, part) => {
    const granted = invokeResources(region(PRIMARY)[part], name);
    for (const r of REGIONS) expect(granted).toContain(`:sagemaker:${r}:`);
  });
});

describe('jobs waiting for a waking model', () => {
  it('lets the jobs worker put a job back on its own queue, and tells it the queue', () => {
    const stack = region(PRIMARY).async;
    const queueUrl = fn(stack, 'jobs-worker')[1].Environment.Variables.JOBS_QUEUE_URL;
    expect(queueUrl).toEqual({ Ref: expect.any(String) });
    const send = statementsOf(stack, 'jobs-worker').find((statement) =>
      actionsOf(statement).includes('sqs:SendMessage'),
    );
    // The queue's URL is its Ref, its ARN the same resource's Arn attribute.
    expect(send?.Resource).toEqual({ 'Fn::GetAtt': [queueUrl.Ref, 'Arn'] });
  });
});

describe('least privilege', () => {
  it('encrypts model weights with a key of their own, apart from the table’s', () => {
    const data = built.template(region(SECOND).data);
    data.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/chatstack-dev/data' });
    data.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/chatstack-dev/models' });
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ModelKey'), 'Arn'] },
            },
          }),
        ],
      },
    });
  });

  it('lets the SageMaker role use the model key only, and create grants only for AWS resources', () => {
    const inference = region(PRIMARY).inference;
    const role = JSON.stringify(resources(inference, 'AWS::IAM::Policy'));
    expect(role).toMatch(/ModelKey/);
    expect(role).not.toMatch(/DataKey/);
    const createGrants = Object.values(resources(inference, 'AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement: Record<string, Json>) => actionsOf(statement).includes('kms:CreateGrant'));
    for (const statement of createGrants) {
      expect(statement.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
      expect(actionsOf(statement)).toEqual(['kms:CreateGrant']);
    }
  });

  it('gives no function a key it does not need: only the table key, never the model key', () => {
    for (const part of ['api', 'async'] as const) {
      expect(JSON.stringify(resources(region(PRIMARY)[part], 'AWS::IAM::Policy'))).not.toMatch(/ModelKey/);
    }
  });

  it('lets the me function presign downloads of and delete the user’s files and exports, never upload them', () => {
    const s3 = statementsOf(region(PRIMARY).api, 'me')
      .flatMap(actionsOf)
      .filter((action) => action.startsWith('s3:'));
    // Files and exports alike, each object by its key (no listing).
    expect([...new Set(s3)].sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
    expect(fn(region(PRIMARY).api, 'me')[1].Environment.Variables).toHaveProperty('FILES_BUCKET_NAME');
  });

  it('gives client-errors no table access at all: it writes nothing to the table', () => {
    expect(tableStatements(region(PRIMARY).api, 'client-errors')).toEqual([]);
    expect(fn(region(PRIMARY).api, 'client-errors')[1].Environment.Variables).not.toHaveProperty(
      'TABLE_NAME',
    );
  });

  it('lets the models function read and update only its callers’ route limit counters', () => {
    expect(tableStatements(region(PRIMARY).api, 'models')).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Condition: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'requests', 'expiresAt'] },
          StringEqualsIfExists: {
            'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'],
            'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
          },
        },
      }),
    ]);
  });

  it('lets the chat function retrieve from the user’s files without reading or writing their objects', () => {
    const variables = fn(region(PRIMARY).api, 'chat')[1].Environment.Variables;
    expect(variables).toHaveProperty('FILES_BUCKET_NAME');
    const actions = statementsOf(region(PRIMARY).api, 'chat').flatMap(actionsOf);
    expect(actions.filter((action) => action.startsWith('s3:'))).toEqual([]);
    expect(actions.filter((action) => action.startsWith('s3vectors:Put'))).toEqual([]);
  });

  it('tells every API function which regions write the table, so counters are summed over them', () => {
    for (const name of ['chat', 'models', 'conversations', 'me']) {
      expect(fn(region(PRIMARY).api, name)[1].Environment.Variables.TABLE_REGIONS).toBe(REGIONS.join(','));
    }
  });

  it.each(['models', 'conversations', 'me', 'jobs', 'api-keys', 'files'])(
    'gives %s the per-user read and write limits and the table that counts them',
    (name) => {
      const variables = fn(region(PRIMARY).api, name)[1].Environment.Variables;
      expect(variables).toMatchObject({ QUOTA_READS_PER_MINUTE: '300', QUOTA_WRITES_PER_MINUTE: '60' });
      expect(variables).toHaveProperty('TABLE_NAME');
    },
  );

  it.each([
    ['async', 'audit', ['dynamodb:PutItem']],
    ['async', 'usage-aggregator', ['dynamodb:PutItem', 'dynamodb:UpdateItem']],
    ['async', 'jobs-dlq', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']],
    ['api', 'jobs', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']],
  ] as const)('lets %s/%s use only the table actions its code calls', (part, name, expected) => {
    const actions = tableStatements(region(PRIMARY)[part], name).flatMap(actionsOf);
    for (const action of expected) expect(actions).toContain(action);
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    if (name === 'audit' || name === 'usage-aggregator') {
      expect(
        actions.filter((action) => !action.endsWith('PutItem') && !action.endsWith('UpdateItem')),
      ).toEqual([]);
    }
  });

  it('acknowledges IAM5 wildcard resources only on policies that hold nothing but actions without a resource type', () => {
    const acknowledged = [...built.stacks.regions.values()]
      .flatMap(({ inference, async, api, ops }) => [inference, async, api, ops])
      .flatMap((stack) => stack.node.findAll())
      .filter((construct) =>
        construct.node.metadata.some(
          (entry) =>
            entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY &&
            Object.keys(entry.data as object).some((key) => key.endsWith('AwsSolutions-IAM5[Resource::*]')),
        ),
      );
    // One per stack with functions (api, async) and one for each SageMaker role's account-wide actions.
    expect(acknowledged).toHaveLength(REGIONS.length * 3);
    for (const construct of acknowledged) {
      expect(construct instanceof Policy || construct instanceof ManagedPolicy, construct.node.path).toBe(
        true,
      );
      const document = (construct as Policy | ManagedPolicy).document.toJSON() as {
        Statement: { Resource: unknown }[];
      };
      for (const statement of document.Statement) expect(statement.Resource, construct.node.path).toBe('*');
    }
  });
});
