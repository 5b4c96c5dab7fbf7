/**
 * powerwalker-pdu: PowerWalker PDU RC-16A IEC (protocol PI90), 8 outlets, over serial
 * (2400 8N1) or USB HID (docs/protocols/powerwalker.md §1). Layers: ../powerwalker/framer.ts, codec.ts (framing
 * shared with the ATS) → codec.ts (PDU replies, control encoding, memory map) → points.ts;
 * session.ts over ../powerwalker/link.ts and session.ts; control.ts for the verbs.
 * See README.md beside this file.
 */
import { decodeExchanges } from '../powerwalker/capture.js';
import type { FieldProblem } from '../problems.js';
import type { Driver } from '../types.js';
import { powerwalkerPduFields } from './fields.js';
import { pduOptionsSchema, powerwalkerSerialSettings, type PduOptions } from './config.js';
import { pduControl } from './control.js';
import { pduPoints, READ_COMMANDS, type PduPoll } from './points.js';
import { PduSession } from './session.js';

export type { PduOptions } from './config.js';
export { PduSession } from './session.js';
export { PowerwalkerError } from '../powerwalker/errors.js';

export const powerwalkerPduDriver: Driver<PduOptions> = {
  id: 'powerwalker-pdu',
  fields: powerwalkerPduFields,
  description: 'PowerWalker PDU RC-16A (PI90): input V/Hz/A, temperature, alarms; per outlet current, W, VA, kWh, status, countdowns; outlet switching',
  kind: 'poll',
  options: pduOptionsSchema,
  defaultSerial: powerwalkerSerialSettings,
  createSession: (ctx) => new PduSession(ctx),
  decodeCapture(records, ctx) {
    const { values, errors, timeMs } = decodeExchanges(records, READ_COMMANDS);
    if (timeMs === undefined) return { points: [], errors };
    const problems: FieldProblem[] = [];
    const points = pduPoints(values as PduPoll, ctx, timeMs, problems);
    return { points, errors: [...errors, ...problems.map((p) => p.detail)] };
  },
  control: pduControl,
};
