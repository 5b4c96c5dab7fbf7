/**
 * powerwalker-ats: PowerWalker ATS automatic transfer switch (protocol PI97), over serial
 * (2400 8N1) or USB HID (docs/protocols/powerwalker.md §1). Shares framing, link and session with the PDU
 * (../powerwalker/); codec.ts → points.ts here. See README.md beside this file.
 */
import { decodeExchanges } from '../powerwalker/capture.js';
import { powerwalkerSerialSettings } from '../powerwalker/config.js';
import type { Driver } from '../types.js';
import { powerwalkerAtsFields } from './fields.js';
import { atsOptionsSchema, type AtsOptions } from './config.js';
import { atsControl } from './control.js';
import { atsPoints, READ_COMMANDS, type AtsPoll } from './points.js';
import { AtsSession } from './session.js';

export type { AtsOptions } from './config.js';
export { AtsSession } from './session.js';

export const powerwalkerAtsDriver: Driver<AtsOptions> = {
  id: 'powerwalker-ats',
  fields: powerwalkerAtsFields,
  description: 'PowerWalker ATS (PI97): both sources V/Hz and their faults, load, output current, sync angle, temperature, 24 status bits',
  kind: 'poll',
  options: atsOptionsSchema,
  defaultSerial: powerwalkerSerialSettings,
  createSession: (ctx) => new AtsSession(ctx),
  decodeCapture(records, ctx) {
    const { values, errors, timeMs } = decodeExchanges(records, READ_COMMANDS);
    if (timeMs === undefined) return { points: [], errors };
    return { points: atsPoints(values as AtsPoll, ctx, timeMs), errors };
  },
  control: atsControl,
};
