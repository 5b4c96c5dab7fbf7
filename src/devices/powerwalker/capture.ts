/**
 * Archived exchanges of one poll → the values the live session took from them. Records come
 * as the session captured them: a `tx` (command + CR), then the `rx` of its reply (up to and
 * with the CR). A command with no reply (silence) is reported, not guessed at. Control
 * commands (S, CS, TP, CEC, memory reads) make no points and are passed over quietly.
 */
import { errorMessage } from '../../core/errors.js';
import type { CaptureRecord } from '../types.js';
import { replyPayload } from './codec.js';

export interface CaptureCommand {
  key: string;
  command: string;
  decode: (payload: string) => unknown;
}

const CONTROL = /^(?:S,|CS,|TP$|CEC$|QGM|GM\d)/;

export function decodeExchanges(records: readonly CaptureRecord[], commands: ReadonlyMap<string, CaptureCommand>): { values: Record<string, unknown>; errors: string[]; timeMs: number | undefined } {
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  let pending: { command: string; index: number } | undefined;
  records.forEach((r, index) => {
    const text = r.data.toString('latin1');
    if (r.direction === 'tx') {
      if (pending) errors.push(`record ${pending.index}: ${pending.command}: no reply`);
      pending = { command: text.replace(/\r$/, ''), index };
      return;
    }
    if (!pending) {
      errors.push(`record ${index}: a reply without a request: ${JSON.stringify(text.slice(0, 40))}`);
      return;
    }
    const { command } = pending;
    pending = undefined;
    const spec = commands.get(command);
    if (!spec) {
      if (!CONTROL.test(command)) errors.push(`record ${index}: unknown command ${JSON.stringify(command)}`);
      return;
    }
    try {
      // A later good reply to the same command (a retry) wins, as it did live.
      values[spec.key] = spec.decode(replyPayload(r.data.subarray(0, r.data.indexOf(0x0d) >= 0 ? r.data.indexOf(0x0d) : r.data.length), command));
    } catch (err) {
      errors.push(`record ${index}: ${errorMessage(err)}`);
    }
  });
  if (pending) errors.push(`record ${pending.index}: ${pending.command}: no reply`);
  return { values, errors, timeMs: records[0]?.timeMs };
}
