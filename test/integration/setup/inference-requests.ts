import { stack } from './context';

/** A chat request as the inference server received it. */
export interface RecordedRequest {
  messages?: { role: string; content: string }[];
}

/** The request bodies the inference server received (it records them with RECORD_REQUESTS=1). */
export async function recordedRequests(): Promise<RecordedRequest[]> {
  const response = await fetch(`${stack().inference}/debug/requests`);
  const body = (await response.json()) as { data: { body: RecordedRequest }[] };
  return body.data.map((entry) => entry.body);
}
