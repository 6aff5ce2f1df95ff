import { describe, expect, it } from 'vitest';
import { capacityPlan, renderPlan } from '../../../scripts/capacity';

const line = (plan: ReturnType<typeof capacityPlan>, component: string) => {
  const found = plan.lines.find((each) => each.component === component);
  if (!found) throw new Error(`no ${component} line`);
  return found;
};

describe('capacity plan', () => {
  it('turns 100 M queries a day into 1,157 requests per second, and the peak factor into the peak', () => {
    const plan = capacityPlan();
    expect(Math.round(plan.averageRps)).toBe(1157);
    expect(plan.peakRps).toBeCloseTo(plan.averageRps * 3);
  });

  it('sends 10 turns of context with each question', () => {
    expect(capacityPlan().promptTokens).toBe(200 + 10 * (60 + 250) + 60);
    expect(capacityPlan({ contextTurns: 0 }).promptTokens).toBe(260);
  });

  it('needs GPUs in proportion to the load', () => {
    const gpu = (queriesPerDay: number) => line(capacityPlan({ queriesPerDay }), 'GPU endpoint').usdPerMonth;
    expect(gpu(200e6)).toBeCloseTo(2 * gpu(100e6));
  });

  it('needs fewer GPUs when the engine finds the earlier turns in its prefix cache', () => {
    const cost = (prefixCacheHitRate: number) =>
      line(capacityPlan({ prefixCacheHitRate }), 'GPU endpoint').usdPerMonth;
    expect(cost(0.8)).toBeLessThan(cost(0) * 0.6);
  });

  it('prints every component with a total', () => {
    const text = renderPlan(capacityPlan());
    for (const component of ['GPU endpoint', 'Lambda (chat)', 'DynamoDB', 'Kinesis', 'SQS', 'CloudWatch']) {
      expect(text).toContain(`| ${component}`);
    }
    expect(text).toMatch(/\| \*\*total\*\* \| \| \*\*[\d,]+\*\* \|/);
  });

  it('refuses an unknown GPU profile, naming it', () => {
    expect(() => capacityPlan({ gpu: 'tpu' as never })).toThrow(/tpu/);
  });
});
