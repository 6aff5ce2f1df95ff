import { Stack, type StackProps } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { Alerts } from '../constructs/alerts';
import type { AppFunction } from '../constructs/app-function';
import type { ChatApi } from '../constructs/chat-api';
import { RegionalTable } from '../constructs/data-table';
import type { EventStream } from '../constructs/event-stream';
import type { InferenceEndpoint } from '../constructs/inference-endpoint';
import type { JobQueue } from '../constructs/job-queue';
import { GlobalOverviewDashboard, Monitoring } from '../constructs/monitoring';

export interface OpsStackProps extends StackProps {
  readonly config: StageConfig;
  readonly chatApi: ChatApi;
  readonly functions: Readonly<Record<string, AppFunction>>;
  readonly tableName: string;
  readonly tableKey: IKey;
  readonly jobQueue: JobQueue;
  readonly eventStream: EventStream;
  readonly endpoint: InferenceEndpoint;
}

/** Stateless: this region's dashboard, alarms and alert routing (plus the all-regions overview in the primary). */
export class OpsStack extends Stack {
  public readonly alerts: Alerts;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: OpsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const table: ITableV2 = new RegionalTable(this, 'Table', {
      tableName: props.tableName,
      encryptionKey: props.tableKey,
    }).table;

    this.alerts = new Alerts(this, 'Alerts', {
      emailAddresses: config.alarms.emails,
      slackWorkspaceId: config.alarms.slackWorkspaceId,
      slackChannelId: config.alarms.slackChannelId,
      slackWebhookSecretName: config.alarms.slackWebhookSecretName,
      logRetention: config.retention.logDays as RetentionDays,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      alerts: this.alerts,
      api: props.chatApi.api,
      functions: Object.fromEntries(Object.entries(props.functions).map(([name, fn]) => [name, fn.lambda])),
      table,
      replicaRegions: config.regions.filter((region) => region !== this.region),
      jobsQueue: props.jobQueue.queue,
      jobsDeadLetterQueue: props.jobQueue.deadLetterQueue,
      eventsStream: props.eventStream.stream,
      endpointName: props.endpoint.endpointName,
      variantName: props.endpoint.variantName,
      thresholds: config.alarms.thresholds,
    });

    if (this.region === config.primaryRegion) {
      new GlobalOverviewDashboard(this, 'Overview', { regions: config.regions });
    }
  }
}
