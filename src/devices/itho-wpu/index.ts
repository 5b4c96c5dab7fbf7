/**
 * itho-wpu: Itho WPU heat pump on I²C through the pigpio daemon (docs/protocols/itho-wpu.md §4).
 * Layers: tables.ts (type-code table) -> codec.ts (frames ⇄ values) -> points.ts;
 * link-pigpio.ts (pigpiod socket client) -> link.ts (one I²C conversation) -> session.ts;
 * tables-parameter-map.ts reads the converted .par map, cache.ts keeps node id and datatype.
 * See README.md beside this file.
 */
import type { Driver } from '../types.js';
import { ithoWpuFields } from './fields.js';
import { ithoWpuOptionsSchema, type IthoWpuOptions } from './config.js';
import { ithoControl } from './control.js';
import { decodeIthoCapture } from './capture.js';
import { IthoWpuSession } from './session.js';

export type { IthoWpuOptions } from './config.js';
export { IthoWpuSession } from './session.js';
export { ParameterMap, ParameterMapError } from './tables-parameter-map.js';

export const ithoWpuDriver: Driver<IthoWpuOptions> = {
  id: 'itho-wpu',
  fields: ithoWpuFields,
  description: 'Itho WPU heat pump over I2C through the pigpio daemon: datalog (temperatures, pressure, pumps, states) labelled from the Itho parameter map, counters, settings',
  kind: 'poll',
  options: ithoWpuOptionsSchema,
  link: 'network',
  networkAddress: (o) => ({ host: o.host, port: o.port }),
  pathOptions: ['parameterMap', 'cacheDb'],
  inputFiles: ['parameterMap'],
  createSession: (ctx) => new IthoWpuSession(ctx),
  decodeCapture: decodeIthoCapture,
  control: ithoControl,
};
