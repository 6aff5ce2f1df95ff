import { Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EnvName } from '../../lambdas/contracts/env';
import type { StageConfig } from '../config';
import type { AppFunction, FunctionEnvironment } from './app-function';

type ModerationSettings = StageConfig['moderation'];

/**
 * The `MODERATION_*` (and guardrail) variables the moderation module reads (lambdas/moderation/README.md) for a
 * function in `region`.
 */
export function moderationEnvironment(moderation: ModerationSettings, region: string): FunctionEnvironment {
  const environment: FunctionEnvironment = {
    [EnvName.moderationProvider]: moderation.provider,
    [EnvName.moderationFailModeInput]: moderation.failMode.input,
    [EnvName.moderationFailModeOutput]: moderation.failMode.output,
    [EnvName.moderationTimeoutMs]: String(moderation.timeoutMs),
  };
  if (moderation.blocklist.length > 0)
    environment[EnvName.moderationBlocklist] = moderation.blocklist.join(',');
  if (moderation.rules !== undefined) environment[EnvName.moderationRules] = JSON.stringify(moderation.rules);
  const thresholds = Object.entries(moderation.thresholds);
  if (thresholds.length > 0) {
    environment[EnvName.moderationThresholds] = thresholds
      .map(([category, score]) => `${category}=${score}`)
      .join(',');
  }
  if (moderation.provider === 'bedrock-guardrail') {
    environment[EnvName.guardrailId] = guardrailIn(moderation, region);
    environment[EnvName.guardrailVersion] = moderation.guardrailVersion;
  }
  return environment;
}

/**
 * Lets a function run the moderation pipeline with the configured classifier: sets the `MODERATION_*` variables
 * and grants the provider's one action — `comprehend:DetectToxicContent`, or `bedrock:ApplyGuardrail` on the
 * configured guardrail only. `none` and `guard-model` (the function's own inference endpoint) need no grant.
 * The classifier SDKs are not bundled: the Node.js 22 runtime ships AWS SDK v3 (AppFunction keeps `@aws-sdk/*`
 * external).
 */
export function grantModeration(fn: AppFunction, moderation: ModerationSettings): void {
  const { region } = Stack.of(fn);
  for (const [name, value] of Object.entries(moderationEnvironment(moderation, region)) as [
    EnvName,
    string,
  ][]) {
    fn.setEnvironment(name, value);
  }
  if (moderation.provider === 'comprehend') {
    fn.addAccountWidePolicy(
      'ComprehendPolicy',
      ['comprehend:DetectToxicContent'],
      'comprehend:DetectToxicContent supports no resource-level permissions.',
    );
  }
  if (moderation.provider === 'bedrock-guardrail') {
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['bedrock:ApplyGuardrail'],
        resources: [
          Stack.of(fn).formatArn({
            service: 'bedrock',
            resource: 'guardrail',
            resourceName: guardrailIn(moderation, region),
          }),
        ],
      }),
    );
  }
}

function guardrailIn(moderation: ModerationSettings, region: string): string {
  const id = moderation.guardrailIds[region];
  if (id === undefined) {
    throw new Error(`The bedrock-guardrail provider needs a guardrail in ${region} (moderation.guardrailId)`);
  }
  return id;
}
