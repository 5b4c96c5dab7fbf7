/**
 * hdhk: HDHK 16-channel AC current meters, Modbus RTU over RS-485 (docs/protocols/hdhk.md §2).
 * One device entry = one bus with one or more units. Layers: tables.ts (the map as
 * data) -> codec.ts (words -> readings) -> points.ts; session.ts talks Modbus over the
 * injected transport (framer.ts pure framing; link.ts with link-rtu.ts or link-mbap.ts).
 * See README.md beside this file.
 */
import type { Driver } from '../types.js';
import { hdhkFields } from './fields.js';
import { hdhkOptionsSchema, hdhkSerialSettings, type HdhkOptions } from './config.js';
import { HdhkSession } from './session.js';
import { decodeHdhkCapture } from './capture.js';

export type { HdhkOptions } from './config.js';
export { HdhkUnitError } from './errors.js';
export { HdhkSession } from './session.js';

export const hdhkDriver: Driver<HdhkOptions> = {
  id: 'hdhk',
  fields: hdhkFields,
  description: 'HDHK 16-channel AC current meters over Modbus RTU (RS-485); several units per bus, currents per circuit and per-phase sums',
  kind: 'poll',
  options: hdhkOptionsSchema,
  defaultSerial: hdhkSerialSettings,
  modbus: true,
  createSession: (ctx) => new HdhkSession(ctx),
  decodeCapture: decodeHdhkCapture,
};
