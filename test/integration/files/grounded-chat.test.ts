/**
 * Answers grounded in files on the local stack: a chat request with `file_ids` (the `openai` SDK) is given the
 * passage holding the asked-for fact — quoted as untrusted material in the prompt the inference server receives —
 * and cites it, streamed or not; the conversation keeps its files for later turns and shows the citations; another
 * user cannot use the files; a deleted file's passages drop out of later answers.
 */
import type OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Citation, FileObject } from '../../../lambdas/contracts/files';
import { fillerText, makePdf } from '../../helpers/pdf';
import { apiBase, machineToken } from '../setup/context';
import { recordedRequests } from '../setup/inference-requests';
import { openaiFor, uploadSettled } from './support';

let a: OpenAI;
let b: OpenAI;
let textFile: FileObject;
let pdfFile: FileObject;

const TEXT_FACT = 'The Osprey vault combination is 5521-DELTA.';
const PDF_FACT = 'The Plover lighthouse was repainted crimson in the spring of 1987.';

type GroundedCompletion = OpenAI.ChatCompletion & { citations?: Citation[]; conversation_id: string };

/** The prompt the model was given for the question `question` (the latest such request). */
async function promptFor(question: string): Promise<{ role: string; content: string }[]> {
  const found = (await recordedRequests())
    .filter((request) => request.messages?.at(-1)?.content === question)
    .at(-1);
  return found?.messages ?? [];
}

function ask(
  client: OpenAI,
  question: string,
  extra: { file_ids?: string[]; conversation_id?: string },
): Promise<GroundedCompletion> {
  return client.chat.completions.create({
    model: 'chatstack-local',
    messages: [{ role: 'user', content: question }],
    max_tokens: 4,
    // chatstack's extensions of the request schema
    ...(extra as object),
  }) as unknown as Promise<GroundedCompletion>;
}

beforeAll(async () => {
  [a, b] = await Promise.all([openaiFor('a'), openaiFor('b')]);
  const text = [fillerText(11, 40), TEXT_FACT, fillerText(12, 40)].join('\n\n');
  const pdf = await makePdf([fillerText(13, 20), `${fillerText(14, 6)} ${PDF_FACT}`, fillerText(15, 20)]);
  [textFile, pdfFile] = await Promise.all([
    uploadSettled(a, Buffer.from(text), 'osprey-notes.txt'),
    uploadSettled(a, pdf, 'plover.pdf', 'user_data'),
  ]);
});

describe('a chat question with file_ids', () => {
  it('cites the text file’s passage holding the fact and quotes it, delimited, in the prompt', async () => {
    expect(textFile.status).toBe('processed');
    const question = 'What is the Osprey vault combination?';
    const answer = await ask(a, question, { file_ids: [textFile.id, pdfFile.id] });
    const cited = answer.citations?.find((citation) => citation.text.includes(TEXT_FACT));
    expect(cited).toMatchObject({ file_id: textFile.id, filename: 'osprey-notes.txt' });
    expect(cited?.chunk_id).toMatch(new RegExp(`^${textFile.id}:\\d+$`));
    // The first citation is the best passage.
    expect(answer.citations?.[0]?.text).toContain(TEXT_FACT);

    const prompt = await promptFor(question);
    const quoted = prompt.at(-2);
    expect(quoted?.role).toBe('user');
    expect(quoted?.content).toContain('untrusted quoted material');
    expect(quoted?.content).toContain(`chunk_id="${cited?.chunk_id}"`);
    expect(quoted?.content).toContain(TEXT_FACT);
    // Never with the system prompt's authority.
    expect(
      prompt
        .filter((message) => message.role === 'system')
        .map((m) => m.content)
        .join(),
    ).not.toContain(TEXT_FACT);
  });

  it('cites the PDF’s passage holding the fact', async () => {
    expect(pdfFile.status).toBe('processed');
    const question = 'When was the Plover lighthouse repainted crimson?';
    const answer = await ask(a, question, { file_ids: [textFile.id, pdfFile.id] });
    expect(answer.citations?.[0]).toMatchObject({ file_id: pdfFile.id, filename: 'plover.pdf' });
    expect(answer.citations?.[0]?.text).toContain(PDF_FACT);
    expect((await promptFor(question)).at(-2)?.content).toContain(PDF_FACT);
  });

  it('sends the citations streamed as one chunk before the usage chunk', async () => {
    const stream = await a.chat.completions.create({
      model: 'chatstack-local',
      messages: [{ role: 'user', content: 'Which combination opens the Osprey vault?' }],
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
      // @ts-expect-error — chatstack's extension of the request schema
      file_ids: [textFile.id],
    });
    const kinds: string[] = [];
    let citations: Citation[] | undefined;
    for await (const chunk of stream) {
      const withCitations = chunk as typeof chunk & { citations?: Citation[] };
      if (withCitations.citations) {
        citations = withCitations.citations;
        kinds.push('citations');
      } else if (chunk.usage) kinds.push('usage');
      else if (chunk.choices[0]?.finish_reason) kinds.push('finish');
    }
    expect(kinds.slice(-3)).toEqual(['finish', 'citations', 'usage']);
    expect(citations?.some((citation) => citation.text.includes(TEXT_FACT))).toBe(true);
  });

  it('keeps the files for later turns, shows citations in the conversation and lists the files in it', async () => {
    const first = await ask(a, 'What is the Osprey vault combination?', { file_ids: [textFile.id] });
    const followUp = 'Remind me of the Osprey vault combination.';
    // No file_ids: the conversation's attached file still grounds the answer.
    const second = await ask(a, followUp, { conversation_id: first.conversation_id });
    expect(second.citations?.every((citation) => citation.file_id === textFile.id)).toBe(true);
    expect((await promptFor(followUp)).at(-2)?.content).toContain('<<<file_excerpt');

    const response = await fetch(`${apiBase()}/conversations/${first.conversation_id}`, {
      headers: { authorization: `Bearer ${await machineToken('a')}` },
    });
    const conversation = (await response.json()) as {
      file_ids?: string[];
      messages: { role: string; citations?: Citation[] }[];
    };
    expect(conversation.file_ids).toEqual([textFile.id]);
    const answers = conversation.messages.filter((message) => message.role === 'assistant');
    expect(answers[0]?.citations?.some((citation) => citation.text.includes(TEXT_FACT))).toBe(true);

    // The export lists the conversation's files and its answers' citations too.
    const exported = (await (
      await fetch(`${apiBase()}/me/export`, {
        headers: { authorization: `Bearer ${await machineToken('a')}` },
      })
    ).json()) as {
      conversations: { id: string; file_ids?: string[]; messages: { citations?: Citation[] }[] }[];
    };
    const inExport = exported.conversations.find((each) => each.id === first.conversation_id);
    expect(inExport?.file_ids).toEqual([textFile.id]);
    expect(
      inExport?.messages.some((message) => message.citations?.some((c) => c.text.includes(TEXT_FACT))),
    ).toBe(true);
  });
});

describe('another user', () => {
  it('gets a 404 naming the file_ids entry', async () => {
    const failure = await ask(b, 'What is the Osprey vault combination?', {
      file_ids: [textFile.id],
    }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 404, param: 'file_ids[0]' });
  });
});

describe('deleting a file', () => {
  it('removes its passages from later answers of the conversation', async () => {
    const uploaded = await uploadSettled(
      a,
      Buffer.from(`${fillerText(16, 10)}\n\nThe Wren archive key is 3308-GAMMA.`),
      'wren.txt',
    );
    expect(uploaded.status).toBe('processed');
    const first = await ask(a, 'What is the Wren archive key?', { file_ids: [uploaded.id] });
    expect(first.citations?.some((citation) => citation.text.includes('3308-GAMMA'))).toBe(true);

    await a.files.delete(uploaded.id);
    const question = 'Tell me the Wren archive key again.';
    const later = await ask(a, question, { conversation_id: first.conversation_id });
    expect(later.citations ?? []).toEqual([]);
    expect(JSON.stringify(await promptFor(question))).not.toContain('3308-GAMMA');
    // Naming it again is a 404, like any id that is not the caller's.
    const failure = await ask(a, question, { file_ids: [uploaded.id] }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 404, param: 'file_ids[0]' });
  });
});
