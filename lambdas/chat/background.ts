/**
 * Work that outlives its HTTP response (a background response's answer). A response-streaming function ends its
 * invocation when the handler's promise settles, not when the response stream closes: the handler's
 * `requestEnd` hook awaits this work after the client has its answer, so the invocation (and its deadline)
 * covers the generation, as a resumable answer's does when its client goes away.
 */
const running = new WeakMap<object, Promise<unknown>[]>();

export function continueAfterResponse(event: object, work: Promise<unknown>): void {
  const list = running.get(event) ?? [];
  list.push(work.catch(() => undefined));
  running.set(event, list);
}

/** middy's `requestEnd` hook: resolves once the request's background work is done. */
export async function awaitBackgroundWork(request: { readonly event: unknown }): Promise<void> {
  const event = request.event;
  if (typeof event !== 'object' || event === null) return;
  await Promise.all(running.get(event) ?? []);
  running.delete(event);
}
