/**
 * A realistic conversation written straight into the stack's table with the conversation store, so screenshots
 * show the product as a person meets it (the local test model's own answers are gibberish).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type ConversationStore,
  createConversation,
  newMessageId,
  putMessage,
  type StoredMessage,
} from '../../../lambdas/conversations/store';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import type { LocalStackUrls } from '../../../scripts/local/stack';

export const TRIP_CONVERSATION = {
  title: 'A weekend in Lisbon',
  turns: [
    {
      question: 'I have a weekend in Lisbon in March. What should I not miss?',
      answer: [
        'Two days is enough for the highlights if you plan by neighbourhood:',
        '',
        '**Saturday — Alfama and Baixa**',
        '- Start at the *Miradouro de Santa Luzia* for the view over the red roofs.',
        '- Walk down through Alfama to the Sé cathedral, then on to Praça do Comércio.',
        '- Lunch: grilled sardines or *bacalhau à brás* in a small tasca.',
        '',
        '**Sunday — Belém**',
        '- Tram 15 to the Jerónimos Monastery and the Belém Tower.',
        '- Queue early for a *pastel de nata* at Pastéis de Belém.',
        '',
        'March is mild (around 17 °C) but can be rainy: pack a light jacket.',
      ].join('\n'),
    },
    {
      question: 'How do I get from the airport to the centre?',
      answer: [
        'The metro is the easiest: the **red line** starts at the airport and reaches the centre in about 20 minutes.',
        '',
        '1. Buy a rechargeable *Navegante* card at the station machines.',
        '2. Take the red line to *Alameda* or *São Sebastião* and change for your stop.',
        '',
        'A taxi or ride-hailing car takes 15–25 minutes depending on traffic.',
      ].join('\n'),
    },
  ],
} as const;

/** Writes the conversation for `sub` (oldest first, each answer following its question) and returns its id. */
export async function seedConversation(
  urls: LocalStackUrls,
  sub: string,
  conversation: { readonly title: string; readonly turns: readonly { question: string; answer: string }[] },
): Promise<string> {
  const store: ConversationStore = {
    db: DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: urls.dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    ),
    tableName: LOCAL_TABLE_NAME,
    retentionDays: 0,
  };
  const messages: StoredMessage[] = [];
  const start = Date.now() - 10 * 60_000;
  conversation.turns.forEach((turn, index) => {
    const at = (offset: number) => new Date(start + index * 120_000 + offset).toISOString();
    const parentId = messages.at(-1)?.messageId ?? null;
    const questionId = newMessageId();
    messages.push(
      {
        messageId: questionId,
        conversationId: '',
        sequence: index * 2,
        role: 'user',
        content: turn.question,
        parentId,
        createdAt: at(0),
        status: 'complete',
      },
      {
        messageId: newMessageId(),
        conversationId: '',
        sequence: index * 2 + 1,
        role: 'assistant',
        content: turn.answer,
        parentId: questionId,
        createdAt: at(4000),
        status: 'complete',
        model: 'chatstack-local',
        finishReason: 'stop',
      },
    );
  });
  const created = await createConversation(store, sub, {
    title: conversation.title,
    reserve: { count: messages.length, userTurns: conversation.turns.length },
    ...(messages.at(-1) ? { currentMessageId: messages.at(-1)?.messageId } : {}),
  });
  for (const message of messages) {
    await putMessage(store, sub, { ...message, conversationId: created.conversationId });
  }
  return created.conversationId;
}
