import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatCompletion, ChatCompletionRequest } from '../contracts/api';
import { keys } from '../contracts/keys';
import { conditionally, isConditionFailure } from '../shared/conditional-write';

/**
 * Job items (`keys.job(sub, id)`) and the conditional writes that move them forward:
 * `queued → processing → completed | failed`, never backwards. Every transition names the state it leaves in
 * its condition, so a stale writer (a redelivered message, a worker whose lease expired) loses instead of
 * overwriting a newer state. A worker's claim carries a random token and a lease; only the holder of the current
 * token may finish the job, and a `processing` claim whose lease has run out may be retaken.
 */
export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed';

/** Rank of each status: a job's rank only ever grows. */
export const JOB_STATUS_RANK: Readonly<Record<JobStatus, number>> = {
  queued: 0,
  processing: 1,
  completed: 2,
  failed: 2,
};

export interface JobError {
  readonly code: string;
  readonly message: string;
}

export interface JobItem {
  readonly pk: string;
  readonly sk: string;
  readonly entity: 'job';
  readonly jobId: string;
  readonly sub: string;
  readonly status: JobStatus;
  readonly request: ChatCompletionRequest;
  /** SHA-256 of the canonical request, to refuse an Idempotency-Key reused with another body. */
  readonly requestHash: string;
  readonly idempotencyKey?: string;
  readonly conversationId?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Times a worker claimed the job. */
  readonly attempts: number;
  readonly claimToken?: string;
  /** Epoch milliseconds after which the current claim may be retaken. */
  readonly leaseExpiresAt?: number;
  readonly startedAt?: string;
  readonly result?: ChatCompletion;
  readonly error?: JobError;
  /** Where the job's turn lives once its question is stored: a retry answers that turn, never asks again. */
  readonly turn?: JobTurn;
  /** The last transient failure, kept for diagnosis while the job is retried. */
  readonly lastError?: JobError;
  /** Epoch seconds (DynamoDB TTL). */
  readonly expiresAt?: number;
}

/** A job's turn in its conversation: the stored question spans `[firstSequence, answerSequence)`. */
export interface JobTurn {
  readonly conversationId: string;
  readonly firstSequence: number;
  readonly answerSequence: number;
}

export interface JobStoreDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => Date;
}

export function createJobStore(deps: JobStoreDeps) {
  const { dynamo, tableName } = deps;
  const now = deps.now ?? (() => new Date());

  async function getJob(sub: string, jobId: string): Promise<JobItem | undefined> {
    const output = await dynamo.send(
      new GetCommand({ TableName: tableName, Key: keys.job(sub, jobId), ConsistentRead: true }),
    );
    return output.Item as JobItem | undefined;
  }

  /** Writes a new `queued` job; `false` when a job with this id already exists (an idempotent replay). */
  async function createJob(job: JobItem): Promise<boolean> {
    return conditionally(() =>
      dynamo.send(
        new PutCommand({ TableName: tableName, Item: job, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  }

  /**
   * Claims a job for one worker run: `queued → processing`, or retakes a `processing` job whose lease expired.
   * Returns the claimed item, or `undefined` when the job is finished or another worker holds a live claim.
   */
  async function claimJob(sub: string, jobId: string, leaseMs: number): Promise<JobItem | undefined> {
    const at = now();
    const claimToken = crypto.randomUUID();
    try {
      const output = await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.job(sub, jobId),
          ConditionExpression:
            'attribute_exists(pk) AND (#status = :queued OR (#status = :processing AND leaseExpiresAt < :now))',
          UpdateExpression:
            'SET #status = :processing, claimToken = :token, leaseExpiresAt = :lease, updatedAt = :at, ' +
            'startedAt = if_not_exists(startedAt, :at) ADD attempts :one',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':processing': 'processing',
            ':now': at.getTime(),
            ':token': claimToken,
            ':lease': at.getTime() + leaseMs,
            ':at': at.toISOString(),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return output.Attributes as JobItem | undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * Finishes a claimed job and returns the settled item, or `undefined` when the claim was lost (retaken after
   * its lease, or the job settled meanwhile).
   */
  async function finishJob(
    job: Pick<JobItem, 'sub' | 'jobId' | 'claimToken'>,
    outcome: { status: 'completed'; result: ChatCompletion } | { status: 'failed'; error: JobError },
  ): Promise<JobItem | undefined> {
    const field = outcome.status === 'completed' ? 'result' : 'error';
    try {
      const output = await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.job(job.sub, job.jobId),
          ConditionExpression: '#status = :processing AND claimToken = :token',
          UpdateExpression:
            'SET #status = :status, #outcome = :outcome, updatedAt = :at REMOVE claimToken, leaseExpiresAt',
          ExpressionAttributeNames: { '#status': 'status', '#outcome': field },
          ExpressionAttributeValues: {
            ':processing': 'processing',
            ':token': job.claimToken ?? '',
            ':status': outcome.status,
            ':outcome': outcome.status === 'completed' ? outcome.result : outcome.error,
            ':at': now().toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return output.Attributes as JobItem | undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** An update only the current claim holder of a `processing` job may make; `false` when the claim was lost. */
  function updateClaimed(
    job: Pick<JobItem, 'sub' | 'jobId' | 'claimToken'>,
    set: string,
    values: Record<string, unknown>,
  ) {
    return conditionally(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.job(job.sub, job.jobId),
          ConditionExpression: '#status = :processing AND claimToken = :token',
          UpdateExpression: `SET ${set}, updatedAt = :at`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':processing': 'processing',
            ':token': job.claimToken ?? '',
            ':at': now().toISOString(),
            ...values,
          },
        }),
      ),
    );
  }

  /** Records where the claimed job's turn is stored (only the current claim holder may). */
  function recordTurn(job: Pick<JobItem, 'sub' | 'jobId' | 'claimToken'>, turn: JobTurn) {
    return updateClaimed(job, 'turn = :turn', { ':turn': turn });
  }

  /** Gives up a claim after a transient failure, so the redelivered message can retake the job at once. */
  function releaseJob(job: Pick<JobItem, 'sub' | 'jobId' | 'claimToken'>, lastError: JobError) {
    return updateClaimed(job, 'leaseExpiresAt = :zero, lastError = :error', {
      ':zero': 0,
      ':error': lastError,
    });
  }

  /**
   * Fails a job that is not finished, whoever holds it: for a message that ended in the dead-letter queue or
   * could not be enqueued. `false` when the job had already settled (or does not exist).
   */
  async function abandonJob(sub: string, jobId: string, error: JobError): Promise<boolean> {
    return conditionally(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.job(sub, jobId),
          ConditionExpression: '#status IN (:queued, :processing)',
          UpdateExpression:
            'SET #status = :failed, #error = :error, updatedAt = :at REMOVE claimToken, leaseExpiresAt',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':processing': 'processing',
            ':failed': 'failed',
            ':error': error,
            ':at': now().toISOString(),
          },
        }),
      ),
    );
  }

  /**
   * Reserves one of the user's active-job slots. The slots are a string set of job ids on one item: adding and
   * deleting an id are idempotent, so retries and redeliveries never make the count drift. Each reservation also
   * records when it was taken (`reservedAt#<jobId>`), so the cleanup can tell a job still being written from one
   * whose submission died.
   */
  async function reserveSlot(sub: string, jobId: string, limit: number): Promise<boolean> {
    return conditionally(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.activeJobs(sub),
          ConditionExpression:
            'attribute_not_exists(jobIds) OR size(jobIds) < :limit OR contains(jobIds, :id)',
          UpdateExpression: 'ADD jobIds :ids SET #reservedAt = if_not_exists(#reservedAt, :now)',
          ExpressionAttributeNames: { '#reservedAt': reservedAtAttribute(jobId) },
          ExpressionAttributeValues: {
            ':limit': limit,
            ':id': jobId,
            ':ids': new Set([jobId]),
            ':now': now().getTime(),
          },
        }),
      ),
    );
  }

  async function releaseSlots(sub: string, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    const names = Object.fromEntries(jobIds.map((id, index) => [`#at${index}`, reservedAtAttribute(id)]));
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.activeJobs(sub),
        UpdateExpression: `DELETE jobIds :ids REMOVE ${Object.keys(names).join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':ids': new Set(jobIds) },
      }),
    );
  }

  /** The held slots with when each was reserved (`undefined` for reservations older than that record). */
  async function slotReservations(sub: string): Promise<{ jobId: string; reservedAtMs?: number }[]> {
    const output = await dynamo.send(
      new GetCommand({ TableName: tableName, Key: keys.activeJobs(sub), ConsistentRead: true }),
    );
    const ids = output.Item?.jobIds;
    if (!(ids instanceof Set)) return [];
    return [...ids]
      .filter((id): id is string => typeof id === 'string')
      .map((jobId) => {
        const at = output.Item?.[reservedAtAttribute(jobId)];
        return typeof at === 'number' ? { jobId, reservedAtMs: at } : { jobId };
      });
  }

  async function activeSlots(sub: string): Promise<string[]> {
    return (await slotReservations(sub)).map((slot) => slot.jobId);
  }

  return {
    getJob,
    createJob,
    claimJob,
    finishJob,
    recordTurn,
    releaseJob,
    abandonJob,
    reserveSlot,
    releaseSlots,
    slotReservations,
    activeSlots,
  };
}

export type JobStore = ReturnType<typeof createJobStore>;

/** The public view of a job (`GET /v1/jobs/{id}`). */
export interface JobView {
  readonly id: string;
  readonly object: 'job';
  readonly status: JobStatus;
  readonly created_at: string;
  readonly updated_at: string;
  readonly attempts: number;
  readonly conversation_id?: string;
  readonly result?: ChatCompletion;
  readonly error?: JobError;
}

export function toJobView(job: JobItem): JobView {
  return {
    id: job.jobId,
    object: 'job',
    status: job.status,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    attempts: job.attempts,
    ...(job.conversationId === undefined ? {} : { conversation_id: job.conversationId }),
    ...(job.result === undefined ? {} : { result: job.result }),
    ...(job.error === undefined ? {} : { error: job.error }),
  };
}

/** The attribute beside the slot set that records when a job's slot was reserved. */
function reservedAtAttribute(jobId: string): string {
  return `reservedAt#${jobId}`;
}
