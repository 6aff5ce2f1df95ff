import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type AnalyticsEvent, AUDIT_EVENT_TYPES, eventDay } from '../contracts/events';
import { keys } from '../contracts/keys';

/**
 * The append-only audit log of security-relevant events (moderation blocks, authentication failures, data
 * exports and erasures). Records live in one partition per UTC day (`AUDIT#<day>`), not in the user's
 * partition, so erasing a user's data does not erase the record of the erasure. The subject is pseudonymised:
 * `subject` is a SHA-256 of the user's sub (a random Cognito id, so it cannot be guessed back), enough to find a
 * user's records when asked, without storing the id itself. Records are written once (conditional put, so a
 * redelivered event is a no-op) and never updated; `expiresAt` applies the retention setting.
 */
export interface AuditDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Days a record is kept; 0 keeps records forever. */
  readonly retentionDays: number;
  readonly now?: () => Date;
}

export interface AuditRecord {
  readonly pk: string;
  readonly sk: string;
  readonly entity: 'audit';
  readonly eventId: string;
  readonly type: AnalyticsEvent['type'];
  readonly occurredAt: string;
  readonly recordedAt: string;
  /** Pseudonymised subject (`subjectPseudonym(sub)`). */
  readonly subject: string;
  readonly clientId?: string;
  readonly requestId?: string;
  readonly region?: string;
  readonly status: AnalyticsEvent['status'];
  readonly errorCode?: string;
  readonly moderation?: AnalyticsEvent['moderation'];
  readonly admin?: AnalyticsEvent['admin'];
  readonly expiresAt?: number;
}

/** The stable pseudonym of a subject in the audit log. */
export function subjectPseudonym(sub: string): string {
  return `sha256:${createHash('sha256').update(`chatstack-audit\u0000${sub}`).digest('hex')}`;
}

export type AuditOutcome = 'recorded' | 'ignored' | 'duplicate';

export async function recordAuditEvent(deps: AuditDeps, event: AnalyticsEvent): Promise<AuditOutcome> {
  if (!AUDIT_EVENT_TYPES.has(event.type)) return 'ignored';
  const now = (deps.now ?? (() => new Date()))();
  const occurredAtSeconds = Math.floor(Date.parse(event.occurredAt) / 1000);
  const record: AuditRecord = {
    ...keys.audit(eventDay(event), event.occurredAt, event.eventId),
    entity: 'audit',
    eventId: event.eventId,
    type: event.type,
    occurredAt: event.occurredAt,
    recordedAt: now.toISOString(),
    subject: subjectPseudonym(event.sub),
    status: event.status,
    ...(event.clientId === undefined ? {} : { clientId: event.clientId }),
    ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
    ...(event.region === undefined ? {} : { region: event.region }),
    ...(event.errorCode === undefined ? {} : { errorCode: event.errorCode }),
    ...(event.moderation === undefined ? {} : { moderation: event.moderation }),
    ...(event.admin === undefined ? {} : { admin: event.admin }),
    ...(deps.retentionDays > 0 ? { expiresAt: occurredAtSeconds + deps.retentionDays * 86_400 } : {}),
  };
  try {
    await deps.dynamo.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: record,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (
      error instanceof ConditionalCheckFailedException ||
      (error instanceof Error && error.name === 'ConditionalCheckFailedException')
    ) {
      return 'duplicate';
    }
    throw error;
  }
  return 'recorded';
}
