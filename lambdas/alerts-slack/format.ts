import * as z from 'zod';

/**
 * Turns a CloudWatch alarm notification (the JSON message CloudWatch publishes to SNS) into a Slack Block Kit
 * message. Pure: no I/O, so the same function formats metric, metric-math and composite alarms in tests.
 */
const StateValue = z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']);

const Dimension = z.object({ name: z.string(), value: z.string() });

const MetricStatQuery = z.object({
  Id: z.string(),
  Expression: z.string().optional(),
  Label: z.string().optional(),
  ReturnData: z.boolean().optional(),
  MetricStat: z
    .object({
      Metric: z.object({
        MetricName: z.string(),
        Namespace: z.string(),
        Dimensions: z.array(Dimension).optional(),
      }),
      Period: z.number().optional(),
      Stat: z.string().optional(),
    })
    .optional(),
});

const Trigger = z.object({
  MetricName: z.string().optional(),
  Namespace: z.string().optional(),
  StatisticType: z.string().optional(),
  Statistic: z.string().optional(),
  ExtendedStatistic: z.string().optional(),
  Unit: z.string().nullable().optional(),
  Dimensions: z.array(Dimension).optional(),
  Metrics: z.array(MetricStatQuery).optional(),
  Period: z.number().optional(),
  EvaluationPeriods: z.number().optional(),
  DatapointsToAlarm: z.number().optional(),
  ComparisonOperator: z.string().optional(),
  Threshold: z.number().optional(),
});

export const AlarmNotificationSchema = z.object({
  AlarmName: z.string(),
  AlarmDescription: z.string().nullable().optional(),
  AWSAccountId: z.string().optional(),
  NewStateValue: StateValue,
  OldStateValue: StateValue.optional(),
  NewStateReason: z.string().optional(),
  StateChangeTime: z.string().optional(),
  Region: z.string().optional(),
  AlarmArn: z.string().optional(),
  Trigger: Trigger.optional(),
  /** Composite alarms carry their rule and the children that caused the change instead of a trigger. */
  AlarmRule: z.string().optional(),
  TriggeringChildren: z
    .array(
      z.union([
        z.string(),
        z.object({
          Arn: z.string(),
          State: z.object({ Value: z.string(), Timestamp: z.string().optional() }).optional(),
        }),
      ]),
    )
    .optional(),
});
export type AlarmNotification = z.infer<typeof AlarmNotificationSchema>;

export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' };

export interface SlackMessage {
  /** Fallback for notifications and clients that cannot show blocks. */
  text: string;
  blocks: SlackBlock[];
}

const STATE_EMOJI: Record<z.infer<typeof StateValue>, string> = {
  ALARM: ':red_circle:',
  OK: ':large_green_circle:',
  INSUFFICIENT_DATA: ':white_circle:',
};

const COMPARISON: Record<string, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '≥',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
  GreaterThanUpperThreshold: '> upper band',
  LessThanLowerThreshold: '< lower band',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside band',
};

const HEADER_MAX = 150;
const SECTION_MAX = 3000;

/** Slack mrkdwn treats `&`, `<` and `>` as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The region code from an ARN (`arn:aws:cloudwatch:us-east-1:…`), for console links. */
function regionOf(arn: string | undefined): string | undefined {
  const region = arn?.split(':')[3];
  return region && region.length > 0 ? region : undefined;
}

function alarmNameOf(childArn: string): string {
  const marker = ':alarm:';
  const at = childArn.indexOf(marker);
  return at >= 0 ? childArn.slice(at + marker.length) : childArn;
}

export function consoleUrl(alarm: Pick<AlarmNotification, 'AlarmArn' | 'AlarmName'>): string | undefined {
  const region = regionOf(alarm.AlarmArn);
  if (region === undefined) return undefined;
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(alarm.AlarmName)}`;
}

function describeMetric(trigger: z.infer<typeof Trigger>): string | undefined {
  if (trigger.MetricName) {
    const stat = trigger.ExtendedStatistic ?? trigger.Statistic?.toLowerCase();
    const dims = (trigger.Dimensions ?? []).map((d) => `${d.name}=${d.value}`).join(', ');
    return `${trigger.Namespace ?? ''} ${trigger.MetricName}${stat ? ` (${stat})` : ''}${dims ? ` · ${dims}` : ''}`.trim();
  }
  const queries = trigger.Metrics ?? [];
  const expression = queries.find((q) => q.ReturnData !== false && q.Expression);
  if (expression?.Expression) {
    const inputs = queries
      .filter((q) => q.MetricStat)
      .map((q) => `${q.MetricStat?.Metric.MetricName}${q.MetricStat?.Stat ? ` (${q.MetricStat.Stat})` : ''}`);
    return `${expression.Label ?? expression.Expression}${inputs.length > 0 ? ` = f(${inputs.join(', ')})` : ''}`;
  }
  const single = queries.find((q) => q.MetricStat)?.MetricStat;
  return single ? `${single.Metric.Namespace} ${single.Metric.MetricName} (${single.Stat ?? ''})` : undefined;
}

function describeCondition(trigger: z.infer<typeof Trigger>): string | undefined {
  if (trigger.Threshold === undefined || trigger.ComparisonOperator === undefined) return undefined;
  const op = COMPARISON[trigger.ComparisonOperator] ?? trigger.ComparisonOperator;
  const periods = trigger.EvaluationPeriods ?? 1;
  const datapoints = trigger.DatapointsToAlarm ?? periods;
  const period = trigger.Period ?? trigger.Metrics?.find((q) => q.MetricStat?.Period)?.MetricStat?.Period;
  return `${op} ${trigger.Threshold} for ${datapoints} of ${periods} × ${period ?? '?'} s`;
}

/** Formats one CloudWatch alarm notification (metric, metric-math or composite) as a Slack message. */
export function formatAlarm(alarm: AlarmNotification): SlackMessage {
  const emoji = STATE_EMOJI[alarm.NewStateValue];
  const title = `${alarm.NewStateValue}: ${alarm.AlarmName}`;
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${emoji} ${title}`, HEADER_MAX), emoji: true },
    },
  ];
  if (alarm.AlarmDescription) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(escapeMrkdwn(alarm.AlarmDescription), SECTION_MAX) },
    });
  }

  const fields: SlackText[] = [
    {
      type: 'mrkdwn',
      text: `*State*\n${alarm.OldStateValue ? `${alarm.OldStateValue} → ` : ''}${alarm.NewStateValue}`,
    },
  ];
  if (alarm.Region) fields.push({ type: 'mrkdwn', text: `*Region*\n${escapeMrkdwn(alarm.Region)}` });
  if (alarm.Trigger) {
    const metric = describeMetric(alarm.Trigger);
    const condition = describeCondition(alarm.Trigger);
    if (metric) fields.push({ type: 'mrkdwn', text: `*Metric*\n${clip(escapeMrkdwn(metric), 1900)}` });
    if (condition) fields.push({ type: 'mrkdwn', text: `*Condition*\n${escapeMrkdwn(condition)}` });
  }
  if (alarm.AlarmRule !== undefined) {
    const children = (alarm.TriggeringChildren ?? []).map((child) =>
      typeof child === 'string'
        ? alarmNameOf(child)
        : `${alarmNameOf(child.Arn)}${child.State ? ` (${child.State.Value})` : ''}`,
    );
    fields.push({
      type: 'mrkdwn',
      text: `*Triggered by*\n${children.length > 0 ? escapeMrkdwn(children.join(', ')) : '—'}`,
    });
  }
  blocks.push({ type: 'section', fields });

  if (alarm.AlarmRule !== undefined) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Rule*\n\`${escapeMrkdwn(alarm.AlarmRule)}\``, SECTION_MAX) },
    });
  }
  if (alarm.NewStateReason) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Reason*\n${escapeMrkdwn(alarm.NewStateReason)}`, SECTION_MAX) },
    });
  }

  const context: string[] = [];
  const url = consoleUrl(alarm);
  if (url) context.push(`<${url}|Open in CloudWatch>`);
  if (alarm.StateChangeTime) context.push(escapeMrkdwn(alarm.StateChangeTime));
  if (alarm.AWSAccountId) context.push(`account ${escapeMrkdwn(alarm.AWSAccountId)}`);
  if (context.length > 0)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });

  return { text: `${emoji} ${title}`, blocks };
}

/** Formats any SNS message: alarm notifications richly, anything else (e.g. a test publish) as plain text. */
export function formatSnsMessage(message: string, subject?: string | null): SlackMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    parsed = undefined;
  }
  const alarm = AlarmNotificationSchema.safeParse(parsed);
  if (alarm.success) return formatAlarm(alarm.data);

  const heading = subject && subject.length > 0 ? subject : 'Notification';
  return {
    text: heading,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(heading, HEADER_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(message), SECTION_MAX) } },
    ],
  };
}
