/** Waiting in integration tests: poll a condition, fail naming what never happened. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `what()` holds, checking every `stepMs`; rejects after about `ms`. */
export async function until(what: () => boolean, ms: number, label: string, stepMs = 100): Promise<void> {
  for (let waited = 0; !what(); waited += stepMs) {
    if (waited > ms) throw new Error(`timed out waiting for ${label}`);
    await sleep(stepMs);
  }
}
