/**
 * Startup without a grown young generation (README run-memory).
 *
 * Loading the CLI (zod schemas of every driver, yaml, the worker) keeps most of what it
 * allocates, so V8 doubles the young generation's semi-spaces three times during the first
 * second (1 → 8 MB each, 16 MB committed) and gives the memory back only when its memory
 * reducer runs, 8-20 s later: that startup bulge was the `run` RSS peak. Here growth is off
 * while the CLI loads and the worker starts, and back to V8's default (factor 2) as soon as
 * the verb's work begins (`run`: once the worker has started), so busy verbs (drain, backfill,
 * a long backlog) grow it as before. Last resort after loading lazily what `run` does not use;
 * --semi-space-growth-factor is read by V8 each time it considers growing, so it may be set here.
 * main.ts imports this module before anything else of the CLI is loaded.
 */
import { setFlagsFromString } from 'node:v8';

const V8_DEFAULT_GROWTH_FACTOR = 2;

setFlagsFromString('--semi-space-growth-factor=1');

let restored = false;

/** From now on the young generation grows with the work, as V8 does by default. */
export function youngGenerationMayGrow(): void {
  if (restored) return;
  restored = true;
  setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH_FACTOR}`);
}
