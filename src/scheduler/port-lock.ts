/**
 * A keyed async mutex: one holder per key (a serial port, an RS-485 bus), keys independent.
 * Used by the scheduler for polling and by the control endpoint for device commands, so a
 * command and a poll never talk to the same port at once.
 *
 * Fair: waiters get the lock strictly in arrival order, and the releasing holder hands it
 * straight to the next waiter, so a newcomer can never barge in (no starvation).
 */

export interface LockOptions {
  /** Give up waiting when this aborts: the waiter leaves the queue and `run` rejects with
   *  `signal.reason`. It has no effect once the lock is held (fn gets its own signal). */
  signal?: AbortSignal;
}

interface Waiter {
  grant(): void;
}

interface Slot {
  queue: Waiter[];
}

export class PortLocks {
  // A key is present exactly while someone holds it; its queue holds the waiters.
  readonly #slots = new Map<string, Slot>();

  /** Run fn while holding `key`. The lock is released when fn settles, also when it throws. */
  async run<T>(key: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
    await this.#acquire(key, options.signal);
    try {
      return await fn();
    } finally {
      this.#release(key);
    }
  }

  /** Whether someone holds `key` right now. */
  isHeld(key: string): boolean {
    return this.#slots.has(key);
  }

  /** How many callers are queued for `key` (not counting the holder). */
  waiting(key: string): number {
    return this.#slots.get(key)?.queue.length ?? 0;
  }

  #acquire(key: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const slot = this.#slots.get(key);
    if (!slot) {
      this.#slots.set(key, { queue: [] });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = slot.queue.indexOf(waiter);
        if (at >= 0) slot.queue.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      slot.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    const next = slot.queue.shift();
    // Hand over without freeing the key, so nobody can slip in between.
    if (next) next.grant();
    else this.#slots.delete(key);
  }
}
