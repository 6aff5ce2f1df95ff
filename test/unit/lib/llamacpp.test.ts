import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RegionStacks } from '../../../lib/chatstack';
import { type SynthesizedChatstack, synthChatstack } from './fixtures/synth';

// One synthesis of a single-region prod app serving the project's own llama.cpp image (gpu-endpoint/).
// Synth stages the image's build context; nothing is built, so no Docker daemon is needed.
const SYNTH_TIMEOUT_MS = 300_000;
const REGION = 'eu-west-1';

let built: SynthesizedChatstack;
let stacks: RegionStacks;
beforeAll(() => {
  built = synthChatstack({
    stage: 'prod',
    regions: [REGION],
    inference: { engine: 'llamacpp', instanceType: 'ml.g5.xlarge', maxRollingBatchSize: 8 },
  });
  const region = built.stacks.regions.get(REGION);
  if (!region) throw new Error(`no stacks for ${REGION}`);
  stacks = region;
}, SYNTH_TIMEOUT_MS);

/** The Docker image assets the inference stack publishes, with the staged build context of each. */
function dockerImages() {
  const assembly = built.app.synth();
  const stack = assembly.getStackArtifact(stacks.inference.artifactId);
  const manifests = stack.dependencies.filter(
    (artifact): artifact is AssetManifestArtifact => artifact instanceof AssetManifestArtifact,
  );
  return manifests.flatMap((manifest) =>
    Object.values(manifest.contents.dockerImages ?? {}).map((image) => ({
      ...image.source,
      stagedPath: join(assembly.directory, image.source.directory ?? ''),
    })),
  );
}

describe('inference.engine = llamacpp', () => {
  it('serves the model from the gpu-endpoint image in the bootstrap container-assets repository', () => {
    built.template(stacks.inference).hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({
        Image: { 'Fn::Sub': Match.stringLikeRegexp('cdk-hnb659fds-container-assets') },
        Environment: Match.objectLike({ MODEL_PATH: '/opt/ml/model', SEQUENCES: '8', GPU_LAYERS: 'all' }),
      }),
    });
  });

  it('stages the image’s build context for linux/amd64 without the local models', () => {
    const images = dockerImages();
    expect(images).toHaveLength(1);
    const [image] = images;
    expect(image?.platform).toBe('linux/amd64');
    const staged = readdirSync(image?.stagedPath ?? '');
    expect(staged).toEqual(expect.arrayContaining(['Dockerfile', 'entrypoint.sh', 'package.json', 'src']));
    // gpu-endpoint/.dockerignore keeps the GGUF files out of the build context (weights come from S3).
    expect(staged).not.toContain('models');
    expect(existsSync(join(image?.stagedPath ?? '', 'Dockerfile'))).toBe(true);
  });

  it('runs production on at least two GPU instances', () => {
    built.template(stacks.inference).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 2 })],
    });
  });

  it('passes the AWS Solutions rules with the image asset in place', () => {
    const report = new AwsSolutionsChecks().validateScope(built.app);
    const findings = report.violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });
});
