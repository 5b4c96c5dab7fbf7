/**
 * The capture hook as drivers call it: a failing archive costs a warning, never the poll
 * (docs/capture.md). Undefined when the device has no capture configured.
 */
import { errorMessage } from '../../core/errors.js';
import type { DriverContext } from '../types.js';

/** Text (a request line, a telegram) is archived as text, bytes as bytes. */
export type CaptureHook = (direction: 'rx' | 'tx', data: Buffer | string, timeMs: number) => void;

export function safeCapture(ctx: Pick<DriverContext<unknown>, 'capture' | 'log'>, name: string): CaptureHook | undefined {
  const capture = ctx.capture;
  if (!capture) return undefined;
  return (direction, data, timeMs) => {
    try {
      capture(direction, data, timeMs);
    } catch (err) {
      ctx.log.warn({ err: errorMessage(err) }, `${name} capture failed`);
    }
  };
}
