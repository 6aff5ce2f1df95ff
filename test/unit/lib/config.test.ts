import { describe, expect, it } from 'vitest';
import { parseStageConfig, StageConfigError } from '../../../lib/config';

describe('stage configuration', () => {
  it('defaults to a two-region dev stage on vLLM with one GPU instance', () => {
    const config = parseStageConfig({});
    expect(config.stage).toBe('dev');
    expect(config.regions).toEqual(['us-east-1', 'us-west-2']);
    expect(config.primaryRegion).toBe('us-east-1');
    expect(config.inference).toMatchObject({
      engine: 'vllm',
      instanceType: 'ml.g5.2xlarge',
      minInstances: 1,
      maxInstances: 1,
    });
    expect(config.retention.logDays).toBe(30);
    expect(config.identity).toMatchObject({
      advancedSecurity: false,
      accessTokenMinutes: 15,
      resourceServerId: 'chatstack',
    });
  });

  it('makes the first configured region the primary', () => {
    expect(parseStageConfig({ regions: ['eu-west-1', 'eu-central-1'] }).primaryRegion).toBe('eu-west-1');
  });

  it('runs prod on at least two instances with threat protection and a year of logs', () => {
    const config = parseStageConfig({ stage: 'prod' });
    expect(config.inference.minInstances).toBe(2);
    expect(config.inference.maxInstances).toBe(4);
    expect(config.identity.advancedSecurity).toBe(true);
    expect(config.retention.logDays).toBe(365);
  });

  it('refuses a prod endpoint on a single instance', () => {
    expect(() => parseStageConfig({ stage: 'prod', inference: { minInstances: 1 } })).toThrow(
      /inference\.minInstances: prod needs at least 2 instances/,
    );
  });

  it('names every bad key in one error', () => {
    const parse = () =>
      parseStageConfig({ regions: ['mars-1'], inference: { engine: 'tgi' }, retention: { logDays: 42 } });
    expect(parse).toThrow(StageConfigError);
    expect(parse).toThrow(
      /regions\.0: .*inference\.engine: .*retention\.logDays: Expected one of CloudWatch/,
    );
  });

  it('rejects unknown keys instead of ignoring a typo', () => {
    expect(() => parseStageConfig({ inference: { instancetype: 'ml.g5.xlarge' } })).toThrow(/instancetype/);
  });

  it('requires both Slack ids for the Chatbot channel', () => {
    expect(() => parseStageConfig({ alarms: { slackWorkspaceId: 'T0123ABCD' } })).toThrow(
      /slackWorkspaceId and alarms\.slackChannelId go together/,
    );
  });

  it('requires a guardrail id for the Bedrock guardrail provider', () => {
    expect(() => parseStageConfig({ moderation: { provider: 'bedrock-guardrail' } })).toThrow(
      /guardrailId is required/,
    );
  });

  it('rejects duplicate regions', () => {
    expect(() => parseStageConfig({ regions: ['us-east-1', 'us-east-1'] })).toThrow(/regions must be unique/);
  });

  it('takes alarm threshold overrides and rejects unknown threshold names', () => {
    expect(
      parseStageConfig({ alarms: { thresholds: { timeToFirstTokenP99Ms: 1500 } } }).alarms.thresholds,
    ).toEqual({ timeToFirstTokenP99Ms: 1500 });
    expect(parseStageConfig({}).alarms.thresholds).toEqual({});
    expect(() => parseStageConfig({ alarms: { thresholds: { ttft: 1500 } } })).toThrow(/alarms\.thresholds/);
    expect(() => parseStageConfig({ alarms: { thresholds: { api5xxRatePercent: -1 } } })).toThrow(
      /alarms\.thresholds\.api5xxRatePercent/,
    );
  });

  it('fails moderation input closed and output open unless configured otherwise', () => {
    expect(parseStageConfig({}).moderation).toMatchObject({
      provider: 'none',
      failMode: { input: 'closed', output: 'open' },
      timeoutMs: 1500,
      blocklist: [],
      thresholds: {},
    });
    expect(parseStageConfig({ moderation: { failMode: { output: 'closed' } } }).moderation.failMode).toEqual({
      input: 'closed',
      output: 'closed',
    });
  });

  it('checks moderation rules against the moderation module’s own schema', () => {
    expect(
      parseStageConfig({ moderation: { rules: { pii: { email: 'redact' } } } }).moderation.rules,
    ).toBeDefined();
    expect(() => parseStageConfig({ moderation: { rules: { pii: { email: 'hide' } } } })).toThrow(
      /moderation\.rules\.pii\.email/,
    );
  });

  it('rejects a blocklist entry the comma-separated variable could not carry', () => {
    expect(() => parseStageConfig({ moderation: { blocklist: ['a, b'] } })).toThrow(
      /moderation\.blocklist\.0/,
    );
  });

  it('takes a guardrail id, not an ARN', () => {
    expect(() =>
      parseStageConfig({
        regions: ['us-east-1'],
        moderation: {
          provider: 'bedrock-guardrail',
          guardrailId: 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abc',
        },
      }),
    ).toThrow(/moderation\.guardrailId: Expected a Bedrock guardrail id/);
  });

  it('needs a guardrail in every region, since each region calls Bedrock in its own', () => {
    const guardrail = (guardrailId: string | Record<string, string>) => () =>
      parseStageConfig({
        regions: ['us-east-1', 'eu-west-1'],
        moderation: { provider: 'bedrock-guardrail', guardrailId },
      });
    expect(guardrail('abcd1234efgh')).toThrow(/exists in one region only; give one per region/);
    expect(guardrail({ 'us-east-1': 'abcd1234efgh' })).toThrow(/no guardrail for eu-west-1/);
    expect(guardrail({ 'us-east-1': 'abcd', 'eu-west-1': 'efgh', 'us-west-2': 'ijkl' })).toThrow(
      /us-west-2 is not a configured region/,
    );
    expect(guardrail({ 'us-east-1': 'abcd', 'eu-west-1': 'efgh' })().moderation.guardrailIds).toEqual({
      'us-east-1': 'abcd',
      'eu-west-1': 'efgh',
    });
    expect(
      parseStageConfig({
        regions: ['eu-west-1'],
        moderation: { provider: 'bedrock-guardrail', guardrailId: 'abcd' },
      }).moderation.guardrailIds,
    ).toEqual({ 'eu-west-1': 'abcd' });
  });
});
