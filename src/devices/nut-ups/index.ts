/**
 * nut-ups: any UPS served by Network UPS Tools, read from upsd over TCP (port 3493).
 * Layers: framer.ts (lines) -> codec.ts (words, LIST blocks, ERR) -> tables.ts (variables and
 * status flags as data) -> points.ts; session.ts talks to upsd over the injected transport, for
 * the polls and for the control verbs (instant commands, control.ts).
 * See README.md beside this file.
 */
import type { Driver } from '../types.js';
import { nutUpsFields } from './fields.js';
import { nutUpsOptionsSchema, type NutUpsOptions } from './config.js';
import { NutUpsSession } from './session.js';
import { decodeNutUpsCapture } from './capture.js';
import { nutUpsControl } from './control.js';

export type { NutUpsOptions } from './config.js';
export { NutUpsSession } from './session.js';
export { NutUpsError, isNutUpsError, type NutUpsErrorReason } from './errors.js';
export { NutError, type InstcmdAccepted } from './codec.js';

export const nutUpsDriver: Driver<NutUpsOptions> = {
  id: 'nut-ups',
  fields: nutUpsFields,
  description: 'Any UPS served by Network UPS Tools: every variable of one UPS from upsd (TCP 3493), status flags decoded',
  kind: 'poll',
  options: nutUpsOptionsSchema,
  link: 'network',
  networkAddress: (o) => ({ host: o.host, port: o.port }),
  pathOptions: ['tls.ca'],
  inputFiles: ['tls.ca'],
  createSession: (ctx) => new NutUpsSession(ctx),
  decodeCapture: decodeNutUpsCapture,
  control: nutUpsControl,
};
