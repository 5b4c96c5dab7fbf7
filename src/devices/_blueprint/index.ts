/**
 * _blueprint: the folder to copy for a new request/reply driver (docs/adding-a-driver.md). It
 * compiles and its test runs it against a simulated meter, but it is registered nowhere.
 * Layers: tables.ts (protocol as data) → framer.ts (bytes → lines) → codec.ts (line ⇄ values)
 * → link.ts (request/reply, deadline, capture) → session.ts (kit/port.ts lifecycle) →
 * points.ts; fields.ts describes every field; capture.ts re-decodes archived exchanges.
 */
import type { Driver } from '../types.js';
import { decodeBlueprintCapture } from './capture.js';
import { blueprintOptionsSchema, blueprintSerialSettings, type BlueprintOptions } from './config.js';
import { blueprintFields } from './fields.js';
import { BlueprintSession } from './session.js';

export type { BlueprintOptions } from './config.js';

export const blueprintDriver: Driver<BlueprintOptions> = {
  id: 'blueprint',
  fields: blueprintFields,
  description: 'Blueprint meter (made up): V, A, W and kWh over a serial line, one request per poll',
  kind: 'poll',
  options: blueprintOptionsSchema,
  defaultSerial: blueprintSerialSettings,
  createSession: (ctx) => new BlueprintSession(ctx),
  decodeCapture: decodeBlueprintCapture,
};
