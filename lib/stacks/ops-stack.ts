import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { Alerts } from '../constructs/alerts';
import type { AppFunction } from '../constructs/app-function';
import type { ChatApi } from '../constructs/chat-api';
import { RegionalTable } from '../constructs/data-table';
import type { EventStream } from '../constructs/event-stream';
import type { FileStore } from '../constructs/file-store';
import type { InferenceEndpoint } from '../constructs/inference-endpoint';
import type { JobQueue } from '../constructs/job-queue';
import { GlobalOverviewDashboard, Monitoring } from '../constructs/monitoring';
import { resolveThresholds } from '../constructs/monitoring/thresholds';
import type { UserDataJobs } from '../constructs/user-data-jobs';
import type { ModelEndpoint } from './inference-stack';

export interface OpsStackProps extends StackProps {
  readonly config: StageConfig;
  readonly chatApi: ChatApi;
  readonly functions: Readonly<Record<string, AppFunction>>;
  readonly tableName: string;
  readonly tableKey: IKey;
  readonly jobQueue: JobQueue;
  readonly eventStream: EventStream;
  readonly endpoint: InferenceEndpoint;
  /** The other served models' endpoints (their alarms are watched as the default model's are). @default none */
  readonly modelEndpoints?: readonly ModelEndpoint[];
  readonly fileStore: FileStore;
  readonly userDataJobs?: UserDataJobs;
}

/** Stateless: this region's dashboard, alarms and alert routing (plus the all-regions overview in the primary). */
export class OpsStack extends Stack {
  public readonly alerts: Alerts;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: OpsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const thresholds = resolveThresholds(config.alarms.thresholds);
    const replicaRegions = config.regions.filter((region) => region !== this.region);
    const table = new RegionalTable(this, 'Table', {
      tableName: props.tableName,
      encryptionKey: props.tableKey,
    });
    table.addAlarms(thresholds, replicaRegions);

    this.alerts = new Alerts(this, 'Alerts', {
      emailAddresses: config.alarms.emails,
      slackWorkspaceId: config.alarms.slackWorkspaceId,
      slackChannelId: config.alarms.slackChannelId,
      slackWebhookSecretName: config.alarms.slackWebhookSecretName,
      logRetention: config.retention.logDays as RetentionDays,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      alerts: this.alerts,
      api: props.chatApi,
      functions: props.functions,
      table,
      replicaRegions,
      jobQueue: props.jobQueue,
      eventStream: props.eventStream,
      endpoint: props.endpoint,
      modelEndpoints: Object.fromEntries(
        (props.modelEndpoints ?? []).map(({ model, endpoint }) => [model.id, endpoint]),
      ),
      fileStore: props.fileStore,
      ...(props.userDataJobs ? { userDataJobs: props.userDataJobs } : {}),
      thresholds,
    });

    if (this.region === config.primaryRegion) {
      new GlobalOverviewDashboard(this, 'Overview', { regions: config.regions });
    }
  }
}
