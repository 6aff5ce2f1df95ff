#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createChatstack } from '../lib/chatstack';
import { CONTEXT_KEYS, parseStageConfig } from '../lib/config';

/**
 * The CDK app: the only place that reads context. Every key of `lib/config.ts` may come from cdk.json's
 * `context` or from `-c key=value` (JSON values such as `-c regions='["eu-west-1"]'` are parsed).
 */
const app = new App();

function contextValue(key: string): unknown {
  const value: unknown = app.node.tryGetContext(key);
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (/^[[{]/.test(trimmed) || /^(true|false|-?\d+(\.\d+)?)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

const raw = Object.fromEntries(
  CONTEXT_KEYS.map((key) => [key, contextValue(key)] as const).filter(([, value]) => value !== undefined),
);
const config = parseStageConfig(raw);

createChatstack(app, config, { account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT });

// AWS Solutions checks run at synth; every finding is fixed or acknowledged with a reason next to its construct.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
