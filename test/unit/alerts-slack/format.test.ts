import type { SNSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { formatSnsMessage, type SlackBlock, type SlackMessage } from '../../../lambdas/alerts-slack/format';
import alarmEvent from '../../fixtures/events/alarm-sns.json';
import compositeEvent from '../../fixtures/events/alarm-sns-composite.json';
import mathOkEvent from '../../fixtures/events/alarm-sns-math-ok.json';

function messageOf(fixture: unknown): string {
  const event = structuredClone(fixture) as SNSEvent;
  const record = event.Records[0];
  if (!record) throw new Error('fixture has no record');
  return record.Sns.Message;
}

/** Every text a person would read in Slack, in order. */
function visibleText(message: SlackMessage): string {
  const texts = (block: SlackBlock): string[] => {
    if (block.type === 'header') return [block.text.text];
    if (block.type === 'section') return [block.text?.text ?? '', ...(block.fields ?? []).map((f) => f.text)];
    if (block.type === 'context') return block.elements.map((e) => e.text);
    return [];
  };
  return message.blocks.flatMap(texts).join('\n');
}

describe('formatSnsMessage', () => {
  it('turns a metric alarm into a red header with state, region, metric and condition', () => {
    const message = formatSnsMessage(messageOf(alarmEvent));

    expect(message.text).toBe(
      ':red_circle: ALARM: ChatstackOps-MonitoringTimeToFirstTokenP99Alarm-1A2B3C4D5E6F',
    );
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    const text = visibleText(message);
    expect(text).toContain('OK → ALARM');
    expect(text).toContain('US East (N. Virginia)');
    expect(text).toContain('Chatstack TimeToFirstToken (p99) · service=chat');
    expect(text).toContain('&gt; 2000 for 3 of 5 × 60 s');
    expect(text).toContain('Chat time to first token p99 is above 2000 ms');
    expect(text).toContain('Threshold Crossed: 3 out of the last 5 datapoints');
  });

  it('links to the alarm in the CloudWatch console of its region', () => {
    const text = visibleText(formatSnsMessage(messageOf(alarmEvent)));

    expect(text).toContain(
      '<https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/ChatstackOps-MonitoringTimeToFirstTokenP99Alarm-1A2B3C4D5E6F|Open in CloudWatch>',
    );
  });

  it('shows a recovered metric-math alarm in green with its expression', () => {
    const message = formatSnsMessage(messageOf(mathOkEvent));

    expect(message.text).toMatch(/^:large_green_circle: OK: /);
    const text = visibleText(message);
    expect(text).toContain('ALARM → OK');
    expect(text).toContain('Server error rate (%) = f(Requests (Sum), Errors (Sum), Errors (Sum))');
    expect(text).toContain('&gt; 0.1 for 3 of 5 × 60 s');
  });

  it('names the children that triggered a composite alarm and shows its rule', () => {
    const text = visibleText(formatSnsMessage(messageOf(compositeEvent)));

    expect(text).toContain(
      '*Triggered by*\nChatstackOps-MonitoringTimeToFirstTokenP99Alarm-1A2B3C4D5E6F (ALARM)',
    );
    expect(text).toContain('*Rule*');
    expect(text).toContain('ALARM("ChatstackOps-MonitoringErrorRateAlarm-9Z8Y7X6W5V4U")');
  });

  it('escapes Slack control characters in alarm text', () => {
    const alarm = JSON.parse(messageOf(alarmEvent)) as Record<string, unknown>;
    alarm.AlarmDescription = 'p99 <2s> & falling';

    const text = visibleText(formatSnsMessage(JSON.stringify(alarm)));

    expect(text).toContain('p99 &lt;2s&gt; &amp; falling');
  });

  it('forwards a non-alarm message as plain text under its subject', () => {
    const message = formatSnsMessage('Test message from the console', 'Hello');

    expect(message.text).toBe('Hello');
    expect(visibleText(message)).toContain('Test message from the console');
  });
});
