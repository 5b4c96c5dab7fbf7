/**
 * Carrying out a prepared control verb on an open bus: reads answer labelled values;
 * setting-set and manual first read the current entry (its datatype gives the decimals and
 * the allowed range), then write exactly once.
 */
import { DeviceError, InputError } from '../../core/errors.js';
import type { ControlRequest, ControlResult } from '../types.js';
import type { WpuBus } from './link.js';
import { decodeCounters, decodeDatalog, decodeManual, decodeNodeId, decodeSerial, decodeSetting, requests } from './codec.js';
import type { IthoParams } from './control.js';
import { dataType, hex, toRaw } from './tables.js';
import type { ParameterRow } from './tables-parameter-map.js';
import { display, type DatalogPlan } from './points.js';

/** What runControl needs of the session (kept narrow to avoid an import cycle). */
export interface ControlHost {
  readonly device: string;
  readonly parameterMap: { setting(v: number, id: number): ParameterRow | undefined; manual(v: number, id: number): ParameterRow | undefined };
  ensurePlan(bus: WpuBus, signal: AbortSignal): Promise<DatalogPlan>;
}

function titled(row: ParameterRow | undefined, what: string, id: number): string {
  if (!row) return `${what} ${id} (not in the parameter map)`;
  const title = (row.title ?? row.name).toLowerCase().replace(/(^|\s)\S/g, (c) => c.toUpperCase());
  return `${id}. ${title}${row.unit ? ` (${row.unit})` : ''}`;
}

export async function runControl(host: ControlHost, bus: WpuBus, request: ControlRequest, signal: AbortSignal): Promise<ControlResult> {
  const p = request.params as IthoParams;
  const dev = host.device;
  switch (p.verb) {
    case 'nodeid': {
      const id = decodeNodeId(await bus.exchange(requests.nodeid(), signal));
      const message =
        `ManufacturerGroup: ${id.manufacturerGroup}, Manufacturer: ${id.manufacturerName ?? id.manufacturer}, ` +
        `HardwareType: ${id.hardwareName ?? id.hardwareType}, ProductVersion: ${id.productVersion}, ListVersion: ${id.listVersion}`;
      return { message, data: { ...id } };
    }
    case 'serial': {
      const serial = decodeSerial(await bus.exchange(requests.serial(), signal));
      return { message: `Serial: ${serial}`, data: { serial } };
    }
    case 'datatype': {
      const plan = await host.ensurePlan(bus, signal);
      const types = await bus.exchange(requests.datatype(), signal);
      const rows = [...types].map((code, i) => ({ key: plan.labels[i]?.key ?? `field_${i}`, code: hex(code), label: plan.labels[i] ? display(plan.labels[i]!) : '' }));
      return { message: rows.map((r) => `${r.label || r.key}: ${r.code}`).join('\n'), data: { fields: rows } };
    }
    case 'datalog': {
      const plan = await host.ensurePlan(bus, signal);
      const values = decodeDatalog(await bus.exchange(requests.datalog(), signal), plan.layout);
      const rows = values.map((v, i) => ({ key: plan.labels[i]!.key, label: display(plan.labels[i]!), value: v ?? null, unit: plan.labels[i]!.unit }));
      return { message: rows.map((r) => `${r.label}: ${r.value ?? '(unknown format)'}`).join('\n'), data: Object.fromEntries(rows.map((r) => [r.key, r.value])) };
    }
    case 'counters': {
      const plan = await host.ensurePlan(bus, signal);
      const values = decodeCounters(await bus.exchange(requests.counters(), signal));
      const rows = values.map((v, i) => {
        const l = plan.counterLabels[i];
        return { key: l?.key ?? `counter_${i}`, label: l ? display(l) : `counter ${i}`, value: v };
      });
      return { message: rows.map((r) => `${r.label}: ${r.value}`).join('\n'), data: Object.fromEntries(rows.map((r) => [r.key, r.value])) };
    }
    case 'setting': {
      const plan = await host.ensurePlan(bus, signal);
      const s = decodeSetting(await bus.exchange(requests.getSetting(p.id), signal));
      const row = host.parameterMap.setting(plan.nodeid.listVersion, p.id);
      return { message: `${titled(row, 'setting', p.id)}: ${s.value} (min: ${s.min}, max: ${s.max}, step: ${s.step})`, data: { ...s, name: row?.name ?? null, unit: row?.unit ?? null } };
    }
    case 'setting-set': {
      const plan = await host.ensurePlan(bus, signal);
      const before = decodeSetting(await bus.exchange(requests.getSetting(p.id), signal));
      const t = dataType(before.datatype)!;
      const raw = toRaw(p.value, t);
      if (Math.abs(raw - p.value * 10 ** t.decimals) > 1e-6) throw new InputError(`itho setting-set: setting ${p.id} takes ${t.decimals} decimal${t.decimals === 1 ? '' : 's'}; ${p.text} has more`);
      if (p.value < before.min || p.value > before.max) throw new InputError(`itho setting-set: setting ${p.id} accepts ${before.min}..${before.max} (step ${before.step}); ${p.text} is outside`);
      const after = decodeSetting(await bus.exchange(requests.setSetting(p.id, raw), signal));
      const row = host.parameterMap.setting(plan.nodeid.listVersion, p.id);
      return { message: `${titled(row, 'setting', p.id)}: ${before.value} → ${after.value}`, data: { id: p.id, before: before.value, after: after.value, raw } };
    }
    case 'manual': {
      const plan = await host.ensurePlan(bus, signal);
      const current = decodeManual(await bus.exchange(requests.getManual(p.id), signal));
      const t = dataType(current.datatype);
      if (!t || t.opaque) throw new DeviceError(`${dev}: manual ${p.id}: the WPU reports type code ${hex(current.datatype)}, which this driver cannot scale`, dev);
      const value = p.start ? p.value : current.value;
      const raw = toRaw(value, t);
      if (Math.abs(raw - value * 10 ** t.decimals) > 1e-6) throw new InputError(`itho manual: ${p.id} takes ${t.decimals} decimal${t.decimals === 1 ? '' : 's'}; ${p.text} has more`);
      if (raw > 0xffff) throw new InputError(`itho manual: ${p.text} does not fit the 16-bit value of ${p.id}`);
      const reply = decodeManual(await bus.exchange(requests.setManual(p.id, current.datatype, raw, p.start), signal));
      const row = host.parameterMap.manual(plan.nodeid.listVersion, p.id);
      const what = p.start ? `override ${current.value} → ${reply.value}` : `override finished (value ${reply.value})`;
      return { message: `${titled(row, 'manual', p.id)}: ${what}`, data: { id: p.id, before: current.value, after: reply.value, raw, start: p.start } };
    }
  }
}
