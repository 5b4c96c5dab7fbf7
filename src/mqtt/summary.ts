/**
 * What `wattline config check` says about the mqtt section: offline and cheap (no broker, no
 * `mqtt` package): the settings as the worker will use them, without secrets, which commands
 * MQTT could reach on which device (the drivers' pure `control.prepare`, as the output asks
 * before it announces an entity), and the TLS files read and parsed now, so a missing or
 * broken file is a config error here rather than a warning at run time.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { MqttConfig } from '../config/mqtt.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Driver } from '../devices/types.js';
import { allows, commandSpecs } from './commands.js';
import { COMPAT_DRIVERS } from './compat-powerwalker.js';
import { redactUrl } from './connection.js';

export interface MqttSummaryDevice {
  name: string;
  driver: { id: string } & Pick<Driver, 'control' | 'fields'>;
  options: unknown;
}

/** Outlet/target numbers tried for switch entities (a PDU has 8; the verbs refuse the rest). */
const SWITCH_TARGETS = [...Array.from({ length: 32 }, (_, i) => String(i + 1)), 'A'];

/**
 * One line per aspect. Throws ConfigError naming the option and the path when a TLS file
 * cannot be read or is not PEM of the right kind.
 */
export function mqttSummary(cfg: MqttConfig, devices: readonly MqttSummaryDevice[], defaultClientId: string, resolvePath: (p: string) => string): string[] {
  const out: string[] = [];
  const clientId = cfg.clientId ?? `${defaultClientId} (default)`;
  const auth = cfg.username ? `, user ${cfg.username}${cfg.password ? ' with a password' : ''}` : '';
  out.push(`mqtt: ${redactUrl(cfg.url)} client id ${clientId}${auth}, topic prefix ${cfg.topicPrefix}, qos ${cfg.qos}, retain ${cfg.retain ? 'on' : 'off'}, batch window ${cfg.batchWindowMs} ms`);
  if (cfg.tls) out.push(`mqtt tls: ${tlsSummary(cfg.tls, resolvePath)}`);
  out.push(`mqtt discovery: ${cfg.discovery.enabled ? `on, prefix ${cfg.discovery.prefix}` : 'off'}`);
  if (!cfg.commands) out.push('mqtt commands: off');
  else {
    const reach = devices.flatMap((d) => commandReach(d));
    out.push(`mqtt commands: on${reach.length ? '' : ' (no configured device takes commands over MQTT)'}`);
    for (const line of reach) out.push(`  ${line}`);
  }
  const c = cfg.compatibility;
  if (c.mode === 'off') out.push('mqtt compatibility: off');
  else {
    // As the output picks them (compatDevice): a named device must be enabled; else the only one of its driver.
    const pick = (named: string | undefined, driverId: string, key: string) => {
      if (named !== undefined) {
        if (!devices.some((d) => d.name === named)) throw new ConfigError(`mqtt.compatibility.${key}: no enabled device named "${named}"`);
        return named;
      }
      const matches = devices.filter((d) => d.driver.id === driverId);
      if (matches.length === 1) return matches[0]!.name;
      return matches.length === 0 ? `none (no ${driverId} device)` : `none (${matches.length} ${driverId} devices: name one in mqtt.compatibility.${key})`;
    };
    out.push(`mqtt compatibility: ${c.mode}, prefix ${c.prefix}, pdu ${pick(c.pdu, COMPAT_DRIVERS.pdu, 'pdu')}, ats ${pick(c.ats, COMPAT_DRIVERS.ats, 'ats')}`);
  }
  return out;
}

/** What MQTT commands could reach on one device: per entity, the verbs and targets its config allows. */
function commandReach(d: MqttSummaryDevice): string[] {
  const lines: string[] = [];
  const driver = d.driver as Driver;
  for (const spec of commandSpecs(d.driver)) {
    const where = `${d.name} (${d.driver.id})`;
    if (spec.component === 'switch') {
      const on = SWITCH_TARGETS.filter((t) => allows(driver, d.options, d.name, spec.onVerb, [t]));
      const off = SWITCH_TARGETS.filter((t) => allows(driver, d.options, d.name, spec.offVerb, [t]));
      const list = (ts: string[]) => (ts.length ? ts.join(', ') : 'none');
      const text = on.join() === off.join() ? `${spec.onVerb}/${spec.offVerb} ${spec.path} ${list(on)}` : `${spec.onVerb} ${spec.path} ${list(on)}; ${spec.offVerb} ${spec.path} ${list(off)}`;
      lines.push(`${where}: ${spec.path} switches: ${on.length || off.length ? text : 'none allowed (options.control)'}`);
    } else {
      const limits = spec.limits?.(d.options);
      const min = Math.max(spec.min, limits?.min ?? spec.min);
      const max = Math.min(spec.max, limits?.max ?? spec.max);
      // The same probe the output uses before it announces the number entity.
      const probe = String(Math.min(Math.max(0, min), max));
      const ok = allows(driver, d.options, d.name, spec.verb, [probe]);
      lines.push(`${where}: ${spec.path} number: ${ok ? `${spec.verb} ${min}..${max}${spec.unit ? ` ${spec.unit}` : ''}` : 'none allowed (options.control)'}`);
    }
  }
  return lines;
}

function tlsSummary(tls: NonNullable<MqttConfig['tls']>, resolvePath: (p: string) => string): string {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(resolvePath(path));
    } catch (err) {
      throw new ConfigError(`mqtt.tls.${what}: cannot read ${path}: ${errorMessage(err)}`);
    }
  };
  const cert = (what: string, path: string): string => {
    const x509 = parseCert(what, path, read(what, path));
    return `${path} (${x509.subject.replace(/\n/g, ', ')}, valid until ${new Date(x509.validTo).toISOString().slice(0, 10)})`;
  };
  const parts: string[] = [];
  parts.push(tls.ca ? `ca ${cert('ca', tls.ca)}` : 'system CAs');
  if (tls.cert !== undefined || tls.key !== undefined) {
    if (tls.cert === undefined || tls.key === undefined)
      throw new ConfigError(`mqtt.tls: ${tls.cert === undefined ? 'key' : 'cert'} is set but ${tls.cert === undefined ? 'cert' : 'key'} is not (a client certificate needs both)`);
    const key = read('key', tls.key).toString('utf8');
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new ConfigError(`mqtt.tls.key: ${tls.key} is not a PEM private key`);
    parts.push(`client certificate ${cert('cert', tls.cert)}, key ${tls.key}`);
  }
  parts.push(tls.rejectUnauthorized ? 'broker certificate verified' : 'broker certificate NOT verified (rejectUnauthorized: false)');
  return parts.join('; ');
}

function parseCert(what: string, path: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new ConfigError(`mqtt.tls.${what}: ${path} is not a PEM certificate (${errorMessage(err)})`);
  }
}
