/**
 * victron-vebus: Victron Multiplus(-II) behind an MK2/MK3-USB interface (VE.Bus "MK2
 * protocol", docs/protocols/victron-vebus.md §3). Layers: tables.ts (constants as data) -> codec.ts (frames
 * <-> values) -> framer.ts (bytes -> checked frames) -> link.ts (request/reply matching,
 * timeouts, capture) -> session.ts; points.ts makes points, capture.ts re-decodes
 * captures, control.ts validates the control verbs. See README.md beside this file.
 */
import type { Driver } from '../types.js';
import { victronVebusFields } from './fields.js';
import { decodeVebusCapture } from './capture.js';
import { vebusOptionsSchema, vebusSerialSettings, type VebusOptions } from './config.js';
import { vebusControl } from './control.js';
import { VebusSession } from './session.js';

export type { VebusOptions } from './config.js';
export { VebusSession } from './session.js';

export const victronVebusDriver: Driver<VebusOptions> = {
  id: 'victron-vebus',
  fields: victronVebusFields,
  description: 'Victron Multiplus(-II) via MK3-USB (VE.Bus MK2 protocol, 2400 8N1): AC in/out per phase, battery, SOC, LEDs, ESS set-point control',
  kind: 'poll',
  options: vebusOptionsSchema,
  defaultSerial: vebusSerialSettings,
  createSession: (ctx) => new VebusSession(ctx),
  decodeCapture: decodeVebusCapture,
  control: vebusControl,
};
