import { z } from 'zod';
import { parseGuid, unknownPlaceholder } from './event.js';
import { READING_NAMES } from './readings.js';

const byte = (what: string) => z.int().min(0).max(255).describe(what);

const readingSchema = z.strictObject({
  sensorIndex: z.int().min(0).max(255).optional().describe('Data byte 0 (fixed: 0-7; compat: 0-255 as the original allowed)'),
  id: z.int().min(0).max(65_535).optional().describe("The GUID's last two bytes (the node id)"),
  note: z.string().min(1).optional().describe('vscpNote; in the plain profile the topic'),
  send: z.boolean().optional().describe('Publish this reading (default: its group switch)'),
});

/** `mqtt.vscp`: the P1 meter's readings as VSCP events, as `vscp-python-p1-power-meter` did (docs/protocols/vscp.md). */
export const vscpSchema = z
  .strictObject({
    profile: z
      .enum(['fixed', 'compat', 'plain'])
      .default('fixed')
      .describe("fixed: class 1040 with VSCP's types, units and W/VAr scaling; compat: the original's events byte for byte; plain: the original's no_vscp (note as topic, value text as payload)"),
    device: z.string().min(1).optional().describe('The dsmr-p1 device whose telegrams are published (default: the only one)'),
    guid: z.string().optional().describe("16 hex bytes `FF:FF:…`; the last two are replaced by each reading's id"),
    interface: z.string().min(1).optional().describe('Network interface whose MAC makes the GUID FF:FF:FF:FF:FF:FF:FF:FE:<MAC>:<id> (when guid is not set; default: the first non-internal one)'),
    topic: z.string().min(1).default('vscp/{xguid}/{xclass}/{xtype}').describe('Topic template: {xguid}, {xclass}, {xtype}'),
    zone: byte('Data byte 1').default(0),
    subzone: byte('Data byte 2').default(0),
    sendEnergy: z.boolean().default(true).describe('The original send_energy: 1.8.0, 2.8.0, 3.8.0, 4.8.0'),
    sendActiveEffect: z.boolean().default(true).describe('send_active_effect: active power, total and per phase'),
    sendReactiveEffect: z.boolean().default(true).describe('send_reactive_effect: reactive power, total and per phase'),
    sendVoltage: z.boolean().default(true).describe('send_voltage: L1-L3 voltage'),
    sendCurrent: z.boolean().default(true).describe('send_current: L1-L3 current'),
    readings: z.partialRecord(z.enum(READING_NAMES), readingSchema).default({}).describe("Per reading, keyed by the original's names (sum_active_energy_out, voltage_l1, …)"),
  })
  .superRefine((v, ctx) => {
    if (v.guid !== undefined) {
      const guid = parseGuid(v.guid);
      if (typeof guid === 'string') ctx.addIssue({ code: 'custom', path: ['guid'], message: guid });
    }
    const bad = unknownPlaceholder(v.topic);
    if (bad) ctx.addIssue({ code: 'custom', path: ['topic'], message: `unknown placeholder ${bad} (known: {xguid}, {xclass}, {xtype})` });
    for (const [name, r] of Object.entries(v.readings)) {
      // Class 1040's byte allows 0-255; VSCP's measurement sensor index is 3 bits (0-7), which the
      // fixed profile keeps. compat keeps the original's range (its sample config uses 1-26).
      if (v.profile !== 'compat' && r?.sensorIndex !== undefined && r.sensorIndex > 7) {
        ctx.addIssue({ code: 'custom', path: ['readings', name, 'sensorIndex'], message: `must be 0-7 in the ${v.profile} profile (compat allows 0-255)` });
      }
      if (v.profile === 'plain' && r?.note !== undefined && /[#+]/.test(r.note)) {
        ctx.addIssue({ code: 'custom', path: ['readings', name, 'note'], message: 'is the topic in the plain profile: no # or +' });
      }
    }
  })
  .describe("VSCP events for a DSMR P1 meter on the same MQTT connection (the original's vscp-python-p1-power-meter output)");

export type VscpConfig = z.infer<typeof vscpSchema>;
