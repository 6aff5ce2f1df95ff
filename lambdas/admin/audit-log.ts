import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { type AuditDeps, recordAuditEvent, subjectPseudonym } from '../audit/record';
import type { AdminAuditRecord } from '../contracts/admin';
import { type AdminAction, buildEvent, EventType } from '../contracts/events';
import type { Caller } from '../shared/auth';

/**
 * Admin actions in the audit log, written by the admin function itself (the same record the audit consumer
 * writes for stream events), so an action is on record before it is acknowledged. The administrator is the
 * record's subject; the target is named by its audit pseudonym, as every subject in the log is.
 */
export async function auditAdminAction(
  deps: AuditDeps,
  admin: Caller,
  action: AdminAction,
  target: string,
  requestId: string,
): Promise<void> {
  await recordAuditEvent(
    deps,
    buildEvent(
      {
        type: EventType.adminAction,
        sub: admin.sub.slice(0, 128),
        ...(admin.clientId ? { clientId: admin.clientId.slice(0, 64) } : {}),
        requestId: requestId.slice(0, 64),
        status: 'ok',
        admin: { action, target: subjectPseudonym(target) },
      },
      (deps.now ?? (() => new Date()))(),
    ),
  );
}

/** Records of one day, oldest first; at most `limit`. */
export async function auditDay(
  deps: AuditDeps,
  day: string,
  limit = 1000,
): Promise<z.infer<typeof AdminAuditRecord>[]> {
  const records: z.infer<typeof AdminAuditRecord>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.dynamo.send(
      new QueryCommand({
        TableName: deps.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `AUDIT#${day}` },
        ExclusiveStartKey: start,
        Limit: Math.min(250, limit - records.length),
      }),
    );
    for (const item of page.Items ?? []) {
      const admin = item.admin as { action?: string; target?: string } | undefined;
      records.push({
        occurred_at: String(item.occurredAt),
        type: String(item.type),
        subject: String(item.subject),
        status: String(item.status),
        code: typeof item.errorCode === 'string' ? item.errorCode : null,
        action: admin?.action ?? null,
        target: admin?.target ?? null,
      });
    }
    start = page.LastEvaluatedKey;
  } while (start && records.length < limit);
  return records;
}
