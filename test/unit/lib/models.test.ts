import type { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStageConfig } from '../../../lib/config';
import { toolCallParserFor } from '../../../lib/tool-call-parser';
import { type SynthesizedChatstack, synthChatstack } from './fixtures/synth';

// One synthesis of a two-region app serving two models, shared by the tests of this file.
const SYNTH_TIMEOUT_MS = 300_000;
const REGIONS = ['us-east-1', 'us-west-2'] as const;
const MODELS = [
  { id: 'qwen2.5-7b-instruct', contextTokens: 32768 },
  { id: 'llama-3.1-8b-instruct', contextTokens: 8192, modelPrefix: 'models/llama/' },
];

let built: SynthesizedChatstack;
beforeAll(() => {
  built = synthChatstack({ regions: [...REGIONS], models: MODELS });
}, SYNTH_TIMEOUT_MS);

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is untyped JSON.
type Json = any;
const stacksOf = (region: string) => {
  const stacks = built.stacks.regions.get(region);
  if (!stacks) throw new Error(`no stacks for ${region}`);
  return stacks;
};
const resourcesOf = (stack: Stack, type: string): Json[] =>
  Object.values(built.template(stack).findResources(type));
/** The environment variables and the invoke permissions of the function whose service is `name`. */
function functionOf(stack: Stack, name: string) {
  const [found] = resourcesOf(stack, 'AWS::Lambda::Function').filter(
    (each) => each.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === name,
  );
  const role = found?.Properties.Role['Fn::GetAtt'][0];
  const invoke = resourcesOf(stack, 'AWS::IAM::Policy')
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
    .filter((statement) => [statement.Action].flat().includes('sagemaker:InvokeEndpointWithResponseStream'));
  return { variables: found?.Properties.Environment.Variables ?? {}, invoke: JSON.stringify(invoke) };
}

describe('a deployment serving two models', () => {
  it('gives each model an endpoint of its own in every region, with its weights, context and tool-call parser', () => {
    for (const region of REGIONS) {
      const template = built.template(stacksOf(region).inference);
      template.resourceCountIs('AWS::SageMaker::Endpoint', 2);
      for (const [id, parser, context, prefix] of [
        ['qwen2.5-7b-instruct', 'hermes', '32768', 'models/default/'],
        ['llama-3.1-8b-instruct', 'llama3_json', '8192', 'models/llama/'],
      ] as const) {
        template.hasResourceProperties('AWS::SageMaker::Model', {
          PrimaryContainer: Match.objectLike({
            Environment: Match.objectLike({
              OPTION_SERVED_MODEL_NAME: id,
              OPTION_ENABLE_AUTO_TOOL_CHOICE: 'true',
              OPTION_TOOL_CALL_PARSER: parser,
              OPTION_MAX_MODEL_LEN: context,
            }),
            ModelDataSource: {
              S3DataSource: Match.objectLike({ S3Uri: Match.stringLikeRegexp(`/${prefix}$`) }),
            },
          }),
        });
      }
    }
  });

  it('names both models, each with its fallback in the other region, to the chat function and the jobs worker', () => {
    const { api, async: jobs } = stacksOf('us-east-1');
    for (const [stack, name] of [
      [api, 'chat'],
      [jobs, 'jobs-worker'],
    ] as const) {
      const { variables, invoke } = functionOf(stack, name);
      const models = JSON.stringify(variables.MODELS);
      expect(models).toContain('\\"id\\":\\"qwen2.5-7b-instruct\\",\\"contextTokens\\":32768');
      expect(models).toContain('\\"id\\":\\"llama-3.1-8b-instruct\\",\\"contextTokens\\":8192');
      // Each model's own endpoint here and its endpoint in us-west-2, by ARN: four endpoints may be invoked.
      expect(models.match(/arn:/g)?.length).toBe(2);
      expect(invoke.match(/:endpoint\//g)?.length).toBe(4);
      // The default model stays where the single-model deployment had it.
      expect(variables.MODEL_ID).toBe('qwen2.5-7b-instruct');
    }
  });

  it('tells the model list and job submissions the models, without letting them call one', () => {
    const { api } = stacksOf('us-east-1');
    for (const name of ['models', 'jobs']) {
      const { variables, invoke } = functionOf(api, name);
      expect(JSON.stringify(variables.MODELS)).toContain('llama-3.1-8b-instruct');
      expect(invoke).toBe('[]');
    }
  });

  it("watches the second model's endpoint: an owner alarm of its own, and it degrades the service", () => {
    const template = built.template(stacksOf('us-east-1').ops);
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmDescription: Match.stringLikeRegexp('Model-llama-3.1-8b-instruct in us-east-1'),
    });
    const degraded = resourcesOf(stacksOf('us-east-1').ops, 'AWS::CloudWatch::CompositeAlarm').find((each) =>
      String(each.Properties.AlarmDescription).includes('is degraded'),
    );
    // The API's four alarms, then invocation errors and no capacity of each model's endpoint.
    expect(JSON.stringify(degraded?.Properties.AlarmRule).match(/ALARM\(/g)?.length).toBe(8);
  });

  it('passes the AWS Solutions checks with both models', () => {
    const report = new AwsSolutionsChecks().validateScope(built.app);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });
});

describe('the single-model default', () => {
  it('is one model, modelId, on the inference prefix, with the engine keeping its own context', () => {
    const config = parseStageConfig({});
    expect(config.models).toEqual([
      {
        id: 'chatstack-default',
        contextTokens: undefined,
        modelPrefix: 'models/default/',
        placement: 'endpoint',
        toolCallParser: 'hermes',
      },
    ]);
  });

  it('takes the first model as the default id, and refuses repeated ids and ids with a slash', () => {
    expect(parseStageConfig({ models: [{ id: 'a' }, { id: 'b' }] }).modelId).toBe('a');
    expect(parseStageConfig({ models: [{ id: 'a' }, { id: 'b' }] }).models[1]?.modelPrefix).toBe('models/b/');
    expect(() => parseStageConfig({ models: [{ id: 'a' }, { id: 'a' }] })).toThrow(
      /models: model ids must be unique/,
    );
    expect(() => parseStageConfig({ models: [{ id: 'Qwen/Qwen2.5' }] })).toThrow(/models\.0\.id/);
  });
});

describe("the tool-call parser that fits a model's id", () => {
  it.each([
    ['qwen2.5-7b-instruct', 'hermes'],
    ['Hermes-3-Llama-3.1-8B', 'hermes'],
    ['meta-llama-3.1-8b-instruct', 'llama3_json'],
    ['llama-4-scout', 'pythonic'],
    ['mistral-7b-instruct-v0.3', 'mistral'],
    ['granite-3.1-8b-instruct', 'granite'],
    ['phi-4-mini-instruct', 'phi4_mini_json'],
    ['chatstack-default', 'hermes'],
  ])('%s → %s', (id, parser) => {
    expect(toolCallParserFor(id)).toBe(parser);
  });

  it('keeps the parser a model names itself', () => {
    expect(
      parseStageConfig({ models: [{ id: 'x', toolCallParser: 'internlm' }] }).models[0]?.toolCallParser,
    ).toBe('internlm');
  });
});

describe('models sharing one endpoint as inference components', () => {
  let shared: SynthesizedChatstack;
  beforeAll(() => {
    shared = synthChatstack({
      regions: ['us-east-1'],
      models: [
        { id: 'qwen2.5-7b-instruct' },
        { id: 'qwen2.5-0.5b-instruct', placement: 'shared', contextTokens: 8192 },
        { id: 'mistral-7b-instruct', placement: 'shared' },
      ],
    });
  }, SYNTH_TIMEOUT_MS);
  const stacks = () => {
    const found = shared.stacks.regions.get('us-east-1');
    if (!found) throw new Error('no stacks');
    return found;
  };
  const inferenceTemplate = () => shared.template(stacks().inference);

  it('puts the shared models on one endpoint of their own, each an inference component with its own model', () => {
    const template = inferenceTemplate();
    template.resourceCountIs('AWS::SageMaker::Endpoint', 2);
    template.resourceCountIs('AWS::SageMaker::Model', 3);
    template.resourceCountIs('AWS::SageMaker::InferenceComponent', 2);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({
          // Room for both models' copies.
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 2 },
        }),
      ],
    });
    for (const [id, parser] of [
      ['qwen2.5-0.5b-instruct', 'hermes'],
      ['mistral-7b-instruct', 'mistral'],
    ]) {
      template.hasResourceProperties('AWS::SageMaker::Model', {
        PrimaryContainer: Match.objectLike({
          Environment: Match.objectLike({ OPTION_SERVED_MODEL_NAME: id, OPTION_TOOL_CALL_PARSER: parser }),
        }),
      });
    }
  });

  it('scales, watches and updates each component on its own', () => {
    const template = inferenceTemplate();
    const targets = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget'));
    expect(
      targets.filter(
        (target) => target.Properties.ScalableDimension === 'sagemaker:inference-component:DesiredCopyCount',
      ),
    ).toHaveLength(2);
    const components = Object.values(template.findResources('AWS::SageMaker::InferenceComponent'));
    for (const component of components) {
      expect(component.Properties.DeploymentConfig.RollingUpdatePolicy).toBeDefined();
      expect(component.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms).toHaveLength(3);
    }
    const host = stacks().inference.modelEndpoints[1]?.endpoint;
    expect(Object.keys(host?.alarms ?? {})).toEqual(
      expect.arrayContaining(['InvocationErrors', 'mistral-7b-instruct.InvocationErrors']),
    );
  });

  it('passes the AWS Solutions checks with shared models', () => {
    const report = new AwsSolutionsChecks().validateScope(shared.app);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it("names each shared model's component to the chat function and lets it invoke exactly those components", () => {
    const template = shared.template(stacks().api);
    const [chat] = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (each) => each.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'chat',
    );
    const models = JSON.stringify(chat?.Properties.Environment.Variables.MODELS);
    // The default model on its own endpoint has no component; each shared model names its own component.
    expect(models).toContain('\\"id\\":\\"qwen2.5-7b-instruct\\",\\"contextTokens\\":4096,\\"endpoints\\":[');
    expect(models.match(/ComponentArn/g)?.length).toBe(2);
    const invoke = JSON.stringify(
      Object.values(template.findResources('AWS::IAM::Policy'))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .filter((statement) =>
          [statement.Action].flat().includes('sagemaker:InvokeEndpointWithResponseStream'),
        ),
    );
    expect(new Set(invoke.match(/Model\w+ComponentArn\w+/g))).toHaveProperty('size', 2);
  });
});
