import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConversationId, MessageId } from '../contracts/api';
import { buildEvent } from '../contracts/events';
import { FeedbackRequest, type FeedbackResult } from '../contracts/feedback';
import { MetricDimension, MetricName } from '../contracts/metrics';
import { conversationStoreFromEnv } from '../conversations/deps';
import { createEventEmitter, type EventEmitter } from '../events/emitter';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { NotFoundError } from '../shared/errors';
import { json } from '../shared/http';
import { kinesisClient } from '../shared/kinesis-client';
import { metrics } from '../shared/powertools';
import { parseJsonBody } from '../validation';
import { type FeedbackChange, feedbackView, rateAnswer } from './store';

/** `POST /v1/conversations/{id}/messages/{message_id}/feedback`: set, change or clear the rating of an answer. */
let emitter: EventEmitter | undefined;

function pathIds(event: APIGatewayProxyEvent) {
  // A malformed id names nothing of the caller's: the same 404 as someone else's.
  const conversation = ConversationId.safeParse(event.pathParameters?.id);
  if (!conversation.success) throw new NotFoundError('Conversation', 'id');
  const message = MessageId.safeParse(event.pathParameters?.message_id);
  if (!message.success) throw new NotFoundError('Answer', 'message_id');
  return { conversationId: conversation.data, messageId: message.data };
}

/** The rating's metric (per rating) and analytics event (on the events stream, as every other event). */
async function report(event: APIGatewayProxyEvent, change: FeedbackChange, conversationId: string) {
  if (change.feedback) {
    const metric = metrics.singleMetric();
    metric.addDimension(MetricDimension.rating, change.feedback.rating);
    metric.addMetric(MetricName.feedbackRatings, MetricUnit.Count, 1);
  }
  const streamName = config().eventsStreamName;
  if (!streamName) return;
  emitter ??= createEventEmitter({ kinesis: kinesisClient(), streamName });
  const caller = callerOf(event);
  const model = (change.feedback ?? change.previous)?.model;
  // The emitter never throws: a record Kinesis keeps refusing is logged by it, and the rating stands.
  await emitter.emitEvents([
    buildEvent({
      type: 'feedback.rated',
      sub: caller.sub,
      ...(caller.clientId ? { clientId: caller.clientId.slice(0, 64) } : {}),
      requestId: event.requestContext.requestId.slice(0, 64),
      conversationId,
      ...(model ? { model: model.slice(0, 64) } : {}),
      status: 'ok',
      feedback: {
        rating: change.feedback?.rating ?? 'cleared',
        previous: change.previous?.rating ?? 'none',
        hasComment: Boolean(change.feedback?.comment),
      },
    }),
  ]);
}

export async function feedbackRoute(
  event: APIGatewayProxyEvent,
  sub: string,
): Promise<APIGatewayProxyResult> {
  const { conversationId, messageId } = pathIds(event);
  const request = parseJsonBody(event, FeedbackRequest);
  const change = await rateAnswer(conversationStoreFromEnv(), sub, conversationId, messageId, request);
  await report(event, change, conversationId);
  const body: FeedbackResult = {
    object: 'conversation.message.feedback',
    conversation_id: conversationId,
    message_id: messageId,
    feedback: change.feedback ? feedbackView(change.feedback) : null,
  };
  return json(event, 200, body);
}
