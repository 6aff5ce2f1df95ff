import { describe, expect, it } from 'vitest';
import { Admission, AdmissionAbortedError } from '../../../gpu-endpoint/src/admission';
import { HttpError } from '../../../gpu-endpoint/src/openai';

const never = () => new AbortController().signal;

describe('admission', () => {
  it('admits up to the slot count at once and queues the rest in arrival order', async () => {
    const admission = new Admission(1, 2);
    const first = await admission.acquire(never());
    const order: string[] = [];
    const second = admission.acquire(never()).then((held) => {
      order.push('second');
      return held;
    });
    const third = admission.acquire(never()).then((held) => {
      order.push('third');
      return held;
    });

    expect(admission.queued).toBe(2);
    first.release();
    (await second).release();
    (await third).release();

    expect(order).toEqual(['second', 'third']);
    expect(admission.inFlight).toBe(0);
  });

  it('refuses with 429 queue_full and retry-after once the queue is full', async () => {
    const admission = new Admission(1, 1);
    await admission.acquire(never());
    void admission.acquire(never());

    const refused = await admission.acquire(never()).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 429, code: 'queue_full', headers: { 'retry-after': '1' } });
  });

  it('drops a waiting request whose client went away, without giving it a slot', async () => {
    const admission = new Admission(1, 4);
    const held = await admission.acquire(never());
    const gone = new AbortController();
    const waiting = admission.acquire(gone.signal);

    gone.abort();

    await expect(waiting).rejects.toBeInstanceOf(AdmissionAbortedError);
    expect(admission.queued).toBe(0);
    held.release();
    expect(admission.inFlight).toBe(0);
  });

  it('counts a release once however often it is called', async () => {
    const admission = new Admission(2, 0);
    const held = await admission.acquire(never());
    await admission.acquire(never());

    held.release();
    held.release();

    expect(admission.inFlight).toBe(1);
  });

  it('refuses new work with 503 after close, and reports idle once admitted work is done', async () => {
    const admission = new Admission(1, 1);
    const held = await admission.acquire(never());
    admission.close();
    let idle = false;
    const idled = admission.idle().then(() => {
      idle = true;
    });

    await expect(admission.acquire(never())).rejects.toMatchObject({ status: 503, code: 'shutting_down' });
    expect(idle).toBe(false);
    held.release();
    await idled;
    expect(idle).toBe(true);
  });
});
