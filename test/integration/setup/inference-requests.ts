import { stack } from './context';

/** A chat request as the inference server received it. */
export interface RecordedRequest {
  messages?: { role: string; content: string }[];
}

/** The request bodies an inference server (the first model's by default) received (RECORD_REQUESTS=1). */
export async function recordedRequests(server: string = stack().inference): Promise<RecordedRequest[]> {
  const response = await fetch(`${server}/debug/requests`);
  const body = (await response.json()) as { data: { body: RecordedRequest }[] };
  return body.data.map((entry) => entry.body);
}
