/**
 * One request in flight and the reply it waits for, as a request/reply link needs it: the
 * slot is armed before the request is written (a fast reply is not lost), the deadline runs
 * from then, an abort or a lost port ends the wait at once, and a frame that arrives with
 * nothing waiting (or that is not the awaited reply) is the link's to count as stray.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { TimeoutError } from '../../core/errors.js';

/** Waits `ms` unless `signal` aborts first: the clock's sleep, or real time. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<unknown>;

/** Real time (links whose deadlines must hold even under a test's stepped clock). */
export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

export interface WaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  sleep: Sleep;
  /** The error for a missed deadline (the link counts it, and may tell silence from half a reply). */
  timedOut: () => Error;
}

interface Pending<T, W> {
  what: W;
  resolve: (reply: T) => void;
  reject: (err: Error) => void;
}

const TIMEOUT = Symbol('timeout');

/** A request's deadline: `reached` resolves TIMEOUT after `ms` unless cancel() comes first (then it never settles). */
function startDeadline(ms: number, sleep: Sleep): { reached: Promise<typeof TIMEOUT>; cancel: () => void } {
  if (sleep === realSleep) {
    // Real time: a plain timer, not an AbortController and an abortable sleep per request
    // (issue 24: a poll's fixed cost on the interpreted daemon).
    let timer: NodeJS.Timeout | undefined;
    const reached = new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(resolve, ms, TIMEOUT)));
    return { reached, cancel: () => clearTimeout(timer) };
  }
  const controller = new AbortController();
  const reached = sleep(ms, controller.signal).then<typeof TIMEOUT, never>(
    () => TIMEOUT,
    () => new Promise<never>(() => undefined), // cancelled: the wait ended otherwise
  );
  return { reached, cancel: () => controller.abort() };
}

export class ReplySlot<T, W = string> {
  private pending: Pending<T, W> | undefined;

  /** What the request in flight waits for, if any. */
  get waiting(): W | undefined {
    return this.pending?.what;
  }

  /** Arm the slot for `what`, run `send`, and wait for the reply, the deadline, an abort or fail(). */
  async wait(what: W, send: () => Promise<void>, o: WaitOptions): Promise<T> {
    o.signal.throwIfAborted();
    const reply = new Promise<T>((resolve, reject) => (this.pending = { what, resolve, reject }));
    reply.catch(() => undefined);
    const onAbort = () => this.fail(() => (o.signal.reason instanceof Error ? o.signal.reason : new TimeoutError(`${String(what)} aborted`)));
    o.signal.addEventListener('abort', onAbort, { once: true });
    const deadline = startDeadline(o.timeoutMs, o.sleep);
    try {
      await send();
      const got = await Promise.race([reply, deadline.reached]);
      if (got === TIMEOUT) throw o.timedOut();
      return got as T;
    } finally {
      this.pending = undefined;
      deadline.cancel();
      o.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Hand a received frame to the request in flight when `matches` accepts it; false: nobody took it. */
  offer(reply: T, matches: (what: W) => boolean = () => true): boolean {
    const p = this.pending;
    if (!p || !matches(p.what)) return false;
    this.pending = undefined;
    p.resolve(reply);
    return true;
  }

  /** End the wait in flight with an error (port closed, session closed). */
  fail(error: (what: W) => Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(error(p.what));
  }
}
