import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FUNCTION_NAMES, parseStageConfig, type RawStageConfig } from '../../../lib/config';
import { AppFunction, handlerEntry, LAMBDAS_DIR } from '../../../lib/constructs/app-function';
import {
  InferenceEndpoint,
  type InferenceEngine,
  lmiImageUri,
} from '../../../lib/constructs/inference-endpoint';
import { JobQueue } from '../../../lib/constructs/job-queue';
import { grantModeration, moderationEnvironment } from '../../../lib/constructs/moderation-access';
import { WebHosting } from '../../../lib/constructs/web-hosting';
import { testApp } from './fixtures/synth';

const SYNTH_TIMEOUT_MS = 180_000;
const env = { account: '123456789012', region: 'eu-west-1' };
const LLAMACPP_IMAGE = fileURLToPath(new URL('./fixtures/llamacpp-image/', import.meta.url));

function stack(app: App = testApp()): Stack {
  return new Stack(app, 'Test', { env });
}

describe('handler entries', () => {
  it('exist for every function the stacks deploy (lambdas/<fn>/handler.ts)', () => {
    const missing = [...FUNCTION_NAMES, 'alerts-slack'].filter(
      (name) => !existsSync(`${LAMBDAS_DIR}${name}/handler.ts`),
    );
    expect(missing, `missing handler entries: ${missing.join(', ')}`).toEqual([]);
  });

  it('refuses to build a function whose entry is missing', () => {
    expect(() => handlerEntry('no-such-function')).toThrow(/Missing Lambda entry for "no-such-function"/);
  });
});

describe('AppFunction', () => {
  it(
    'bundles the handler with esbuild into minified ESM for Node.js 22 on arm64',
    () => {
      const outdir = mkdtempSync(join(tmpdir(), 'chatstack-bundle-'));
      onTestFinished(() => rmSync(outdir, { recursive: true, force: true }));
      const app = new App({ outdir, builtinCloudFormationValidation: false });
      const scope = stack(app);
      new AppFunction(scope, 'ClientErrors', {
        functionName: 'client-errors',
        description: 'test',
        logRetention: RetentionDays.ONE_WEEK,
      });
      const template = Template.fromStack(scope);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
      const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
      const bundled = assets.map((dir) => join(outdir, dir, 'index.mjs')).filter((file) => existsSync(file));
      expect(bundled).toHaveLength(1);
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('JobQueue', () => {
  it('refuses a visibility timeout shorter than six worker timeouts', () => {
    expect(
      () =>
        new JobQueue(stack(), 'Jobs', {
          workerTimeout: Duration.minutes(5),
          visibilityTimeout: Duration.minutes(10),
        }),
    ).toThrow(/visibility timeout \(600 s\) must be at least 6× the worker timeout \(300 s\)/);
  });

  it(
    'refuses a worker slower than the queue was sized for',
    () => {
      const scope = stack();
      const queue = new JobQueue(scope, 'Jobs', { workerTimeout: Duration.minutes(1) });
      const worker = new AppFunction(scope, 'Worker', {
        functionName: 'jobs-worker',
        description: 'test',
        logRetention: RetentionDays.ONE_WEEK,
        timeout: Duration.minutes(5),
      });
      expect(() => queue.addWorker(worker)).toThrow(/Worker timeout 300 s exceeds the 60 s/);
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('grantModeration', () => {
  function moderatedChat(moderation: RawStageConfig['moderation']) {
    const scope = stack();
    const chat = new AppFunction(scope, 'Chat', {
      functionName: 'chat',
      description: 'test',
      logRetention: RetentionDays.ONE_WEEK,
    });
    grantModeration(chat, parseStageConfig({ regions: [env.region], moderation }).moderation);
    return Template.fromStack(scope);
  }
  const statements = (template: Template) =>
    Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );

  it(
    'grants Comprehend toxicity detection (which has no resource-level permissions) for the comprehend provider',
    () => {
      const template = moderatedChat({ provider: 'comprehend', thresholds: { default: 0.5, hate: 0.3 } });
      // In a policy of its own (the IAM5 acknowledgement names that policy alone), apart from X-Ray's.
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyName: Match.stringLikeRegexp('^ChatComprehendPolicy'),
        PolicyDocument: {
          Statement: [{ Action: 'comprehend:DetectToxicContent', Effect: 'Allow', Resource: '*' }],
        },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            MODERATION_PROVIDER: 'comprehend',
            MODERATION_THRESHOLDS: 'default=0.5,hate=0.3',
          }),
        },
      });
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'grants nothing beyond logs and tracing without a cloud classifier',
    () => {
      for (const provider of ['none', 'guard-model'] as const) {
        const actions = statements(moderatedChat({ provider })).flatMap((statement) => statement.Action);
        expect(actions.filter((action: string) => !action.startsWith('xray:'))).toEqual([]);
      }
    },
    SYNTH_TIMEOUT_MS,
  );

  it('renders the moderation settings as the variables the moderation module reads', () => {
    const { moderation } = parseStageConfig({
      regions: ['eu-west-1'],
      moderation: {
        provider: 'bedrock-guardrail',
        guardrailId: 'abcd1234efgh',
        blocklist: ['secret project', 'codename'],
        rules: { pii: { email: 'redact' }, outputMaxHoldChars: 128 },
        failMode: { input: 'open' },
        timeoutMs: 800,
      },
    });
    expect(moderationEnvironment(moderation, 'eu-west-1')).toEqual({
      MODERATION_PROVIDER: 'bedrock-guardrail',
      GUARDRAIL_ID: 'abcd1234efgh',
      GUARDRAIL_VERSION: 'DRAFT',
      MODERATION_BLOCKLIST: 'secret project,codename',
      MODERATION_RULES: '{"pii":{"email":{"input":"redact","output":"redact"}},"outputMaxHoldChars":128}',
      MODERATION_FAIL_MODE_INPUT: 'open',
      MODERATION_FAIL_MODE_OUTPUT: 'open',
      MODERATION_TIMEOUT_MS: '800',
    });
  });
});

describe('InferenceEndpoint', () => {
  function endpoint(
    engine: InferenceEngine,
    instanceType: string,
    minInstances = 1,
    requiredMinInstances = 1,
  ) {
    const scope = stack();
    const key = new Key(scope, 'Key');
    const bucket = new Bucket(scope, 'Models');
    const inference = new InferenceEndpoint(scope, 'Endpoint', {
      engine,
      modelBucket: bucket,
      modelPrefix: 'models/tiny/',
      encryptionKey: key,
      modelId: 'tiny',
      instanceType,
      minInstances,
      maxInstances: Math.max(2, minInstances),
      targetConcurrentRequestsPerModel: 8,
      requiredMinInstances,
    });
    return { inference, template: Template.fromStack(scope) };
  }
  const llamacpp: InferenceEngine = { kind: 'llamacpp', imageDirectory: LLAMACPP_IMAGE, sequences: 8 };

  it('serves the llama.cpp engine from the project’s own image asset with the GGUF folder mounted', () => {
    const { template } = endpoint(llamacpp, 'ml.g5.xlarge');
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({
        Image: { 'Fn::Sub': Match.stringLikeRegexp('cdk-hnb659fds-container-assets') },
        Environment: { MODEL_PATH: '/opt/ml/model', MODEL_NAME: 'tiny', SEQUENCES: '8', GPU_LAYERS: 'all' },
      }),
    });
  });

  it('switches on prefix caching and tool calling for the vLLM (LMI) engine', () => {
    const vllm: InferenceEngine = {
      kind: 'vllm',
      imageTag: '0.33.0-lmi15.0.0-cu128',
      maxRollingBatchSize: 32,
      tensorParallelDegree: 'max',
    };
    const { template } = endpoint(vllm, 'ml.g5.xlarge');
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({
        Environment: Match.objectLike({
          OPTION_ENABLE_PREFIX_CACHING: 'true',
          OPTION_ENABLE_AUTO_TOOL_CHOICE: 'true',
          OPTION_TOOL_CALL_PARSER: 'hermes',
        }),
      }),
    });
  });

  it('encrypts EBS volumes with the key where the instance type has them, and not on NVMe instance storage', () => {
    endpoint(llamacpp, 'ml.m5.xlarge').template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    });
    endpoint(llamacpp, 'ml.g5.xlarge').template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: Match.absent(),
    });
  });

  it('refuses fewer instances than production requires', () => {
    expect(() => endpoint(llamacpp, 'ml.g5.xlarge', 1, 2)).toThrow(
      /needs at least 2 instances, got minInstances=1/,
    );
  });

  it('grants streaming invocation and names the endpoint for the inference client', () => {
    const scope = stack();
    const key = new Key(scope, 'Key');
    const inference = new InferenceEndpoint(scope, 'Endpoint', {
      engine: llamacpp,
      modelBucket: new Bucket(scope, 'Models'),
      modelPrefix: 'models/tiny/',
      encryptionKey: key,
      modelId: 'tiny',
      instanceType: 'ml.g5.xlarge',
      minInstances: 1,
      maxInstances: 1,
      targetConcurrentRequestsPerModel: 8,
    });
    const chat = new AppFunction(scope, 'Chat', {
      functionName: 'chat',
      description: 'test',
      logRetention: RetentionDays.ONE_WEEK,
    });
    inference.grantInvoke(chat);
    const template = Template.fromStack(scope);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          INFERENCE_ENDPOINTS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Endpoint'), 'EndpointName'] },
          MODEL_ID: 'tiny',
        }),
      },
    });
    expect(inference.metricConcurrentRequests().metricName).toBe('ConcurrentRequestsPerModel');
    expect(inference.metricGpuUtilization().namespace).toBe('/aws/sagemaker/Endpoints');
  });

  it('pulls LMI from the Deep Learning Containers registry of the region', () => {
    expect(lmiImageUri('eu-west-1', '0.33.0-lmi15.0.0-cu128')).toBe(
      '763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128',
    );
    expect(lmiImageUri('af-south-1', 'tag-lmi')).toMatch(/^626614931356\.dkr\.ecr\.af-south-1\./);
  });
});

describe('WebHosting', () => {
  it('deploys a placeholder page, with a warning, when the web app was not built', () => {
    const scope = stack();
    const hosting = new WebHosting(scope, 'Web', {
      bucketName: 'chatstack-test-web',
      distPath: '/nonexistent/web/dist',
      connectSources: [],
    });
    expect(hosting.builtAppFound).toBe(false);
    Annotations.fromStack(scope).hasWarning(
      '/Test/Web',
      Match.stringLikeRegexp('No built web app at /nonexistent/web/dist'),
    );
  });

  it('tells search engines not to index shared conversations (/s/*), with the same security headers', () => {
    const scope = stack();
    new WebHosting(scope, 'Web', {
      bucketName: 'chatstack-test-web',
      distPath: '/nonexistent',
      connectSources: [],
    });
    const template = Template.fromStack(scope);
    const policies = template.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    const [sharedId, shared] =
      Object.entries(policies).find(([, policy]) => JSON.stringify(policy).includes('X-Robots-Tag')) ?? [];
    expect(shared?.Properties.ResponseHeadersPolicyConfig.CustomHeadersConfig.Items).toEqual([
      { Header: 'X-Robots-Tag', Value: 'noindex, nofollow', Override: true },
    ]);
    expect(
      shared?.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy,
    ).toBeDefined();
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        CacheBehaviors: [
          Match.objectLike({ PathPattern: '/s/*', ResponseHeadersPolicyId: { Ref: sharedId } }),
        ],
      }),
    });
  });
});
