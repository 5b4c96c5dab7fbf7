/**
 * A small upsd on the device end of a link (NUT developer guide, "Network protocol
 * information": docs/net-protocol.txt): LIST VAR, LIST UPS, LIST CMD, GET VAR, GET CMDDESC,
 * INSTCMD (after USERNAME/PASSWORD of the configured user), VER, LOGOUT; one UPS whose readings wander a little; failures on demand (stale data,
 * silence, a status sequence).
 *
 * It shares nothing with the driver (a simulator never imports src/devices/: docs/adding-a-driver.md): its
 * request parser and reply quoting are its own.
 */
import { remember } from './history.js';
import type { Transport } from '../transports/transport.js';

export interface NutUpsSimulatorOptions {
  /** Name of the UPS (the [section] of ups.conf). */
  ups?: string;
  description?: string;
  /** Let the readings wander a little on every LIST VAR. */
  vary?: boolean;
  random?: () => number;
  /** Required login, when set (USERNAME/PASSWORD answer ERR otherwise). */
  username?: string;
  password?: string;
  /** Instant commands the UPS offers (name → description); default demoCommands(). */
  instantCommands?: Map<string, string>;
}

export interface NutUpsSimulator {
  stop(): void;
  /** ERR DATA-STALE for LIST VAR / GET VAR while on. */
  setStale(stale: boolean): void;
  /** Read nothing, answer nothing while on. */
  setSilent(silent: boolean): void;
  setVar(name: string, value: string): void;
  /** Commands received (first word and second, e.g. `LIST VAR`), in order. */
  readonly commands: string[];
  /** Instant commands accepted (`name` or `name value`), in order. */
  readonly instcmds: string[];
  readonly ups: string;
}

/** A line-interactive 1500 VA UPS on line, as `upsc` shows a typical APC/Eaton unit. */
export function demoVariables(): Map<string, string> {
  return new Map([
    ['battery.charge', '100'],
    ['battery.charge.low', '10'],
    ['battery.runtime', '2460'],
    ['battery.runtime.low', '120'],
    ['battery.type', 'PbAc'],
    ['battery.voltage', '27.3'],
    ['battery.voltage.nominal', '24.0'],
    ['device.mfr', 'American Power Conversion'],
    ['device.model', 'Smart-UPS 1500 "demo"'],
    ['device.serial', 'AS1234567890'],
    ['device.type', 'ups'],
    ['driver.name', 'usbhid-ups'],
    ['driver.version', '2.8.0'],
    ['input.frequency', '50.0'],
    ['input.voltage', '231.2'],
    ['input.voltage.nominal', '230'],
    ['input.transfer.high', '253'],
    ['input.transfer.low', '208'],
    ['output.voltage', '230.0'],
    ['ups.beeper.status', 'enabled'],
    ['ups.delay.shutdown', '20'],
    ['ups.firmware', 'UPS 09.3 / ID=18'],
    ['ups.load', '23'],
    ['ups.mfr', 'American Power Conversion'],
    ['ups.model', 'Smart-UPS 1500'],
    ['ups.power.nominal', '1500'],
    ['ups.realpower', '225'],
    ['ups.realpower.nominal', '980'],
    ['ups.serial', 'AS1234567890'],
    ['ups.status', 'OL CHRG'],
    ['ups.temperature', '29.7'],
    ['ups.test.result', 'No test initiated'],
  ]);
}

/** What a typical usbhid-ups unit offers (`upscmd -l`), with NUT's descriptions (cmdvartab). */
export function demoCommands(): Map<string, string> {
  return new Map([
    ['beeper.disable', 'Disable the UPS beeper'],
    ['beeper.enable', 'Enable the UPS beeper'],
    ['load.off', 'Turn off the load immediately'],
    ['test.battery.start.quick', 'Start a quick battery test'],
    ['test.battery.start', 'Start a battery test'],
    ['test.battery.stop', 'Stop the battery test'],
  ]);
}

/** Splits a request line into words: `"…"` groups, `\` escapes (net-protocol.txt). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function startNutUpsSimulator(device: Transport, driverOptions: unknown, simOptions: NutUpsSimulatorOptions = {}): NutUpsSimulator {
  const fromDriver = (driverOptions ?? {}) as { ups?: unknown };
  const ups = simOptions.ups ?? (typeof fromDriver.ups === 'string' ? fromDriver.ups : 'demo');
  const vars = demoVariables();
  const random = simOptions.random ?? Math.random;
  const vary = simOptions.vary ?? true;
  const commands: string[] = [];
  const instcmds: string[] = [];
  const offered = simOptions.instantCommands ?? demoCommands();
  // Per connection, as in upsd: what USERNAME/PASSWORD said (reset when the host reconnects).
  let user: string | undefined;
  let passwordOk = false;
  let stale = false;
  let silent = false;
  let buffer = '';
  let stopped = false;

  const send = (lines: string[]) => {
    if (stopped || !device.isOpen) return;
    device.write(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8')).catch(() => undefined);
  };

  const wander = () => {
    if (!vary) return;
    const around = (name: string, base: number, spread: number, digits: number) => vars.set(name, (base + (random() - 0.5) * 2 * spread).toFixed(digits));
    around('input.voltage', 231, 2.5, 1);
    around('input.frequency', 50, 0.05, 2);
    around('output.voltage', 230, 1, 1);
    around('ups.load', 23, 3, 0);
    around('ups.realpower', 225, 25, 0);
    around('ups.temperature', 29.5, 0.5, 1);
    around('battery.voltage', 27.3, 0.1, 2);
  };

  const answer = (line: string): string[] => {
    const w = words(line);
    const [cmd, sub, a, b] = w;
    remember(commands, [cmd, sub].filter(Boolean).join(' '));
    switch (cmd) {
      case 'USERNAME':
        if (w.length !== 2) return ['ERR INVALID-ARGUMENT'];
        if (simOptions.username !== undefined && sub !== simOptions.username) return ['ERR ACCESS-DENIED'];
        user = sub;
        return ['OK'];
      case 'PASSWORD':
        if (w.length !== 2) return ['ERR INVALID-ARGUMENT'];
        if (simOptions.password !== undefined && sub !== simOptions.password) return ['ERR ACCESS-DENIED'];
        passwordOk = true;
        return ['OK'];
      case 'INSTCMD': {
        // upsd's order: the UPS, the command, then the user (a wrong password shows up here).
        if (w.length !== 3 && w.length !== 4) return ['ERR INVALID-ARGUMENT'];
        if (sub !== ups) return ['ERR UNKNOWN-UPS'];
        if (!offered.has(a!)) return ['ERR CMD-NOT-SUPPORTED'];
        if (user === undefined) return ['ERR USERNAME-REQUIRED'];
        if (!passwordOk) return ['ERR PASSWORD-REQUIRED'];
        instcmds.push(b === undefined ? a! : `${a} ${b}`);
        return ['OK'];
      }
      case 'VER':
        return ['Network UPS Tools upsd 2.8.0 (wattline simulator)'];
      case 'LOGOUT':
        return ['OK Goodbye'];
      case 'LIST':
        if (sub === 'CMD' && w.length === 3) {
          if (a !== ups) return ['ERR UNKNOWN-UPS'];
          return [`BEGIN LIST CMD ${ups}`, ...[...offered.keys()].sort().map((c) => `CMD ${ups} ${c}`), `END LIST CMD ${ups}`];
        }
        if (sub === 'UPS' && w.length === 2) return ['BEGIN LIST UPS', `UPS ${ups} ${quoted(simOptions.description ?? 'wattline demo UPS')}`, 'END LIST UPS'];
        if (sub === 'VAR' && w.length === 3) {
          if (a !== ups) return ['ERR UNKNOWN-UPS'];
          if (stale) return ['ERR DATA-STALE'];
          wander();
          const sorted = [...vars.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
          return [`BEGIN LIST VAR ${ups}`, ...sorted.map(([k, v]) => `VAR ${ups} ${k} ${quoted(v)}`), `END LIST VAR ${ups}`];
        }
        return ['ERR INVALID-ARGUMENT'];
      case 'GET':
        if (sub === 'CMDDESC' && w.length === 4) {
          if (a !== ups) return ['ERR UNKNOWN-UPS'];
          return offered.has(b!) ? [`CMDDESC ${ups} ${b} ${quoted(offered.get(b!)!)}`] : ['ERR CMD-NOT-SUPPORTED'];
        }
        if (sub !== 'VAR' || w.length !== 4) return ['ERR INVALID-ARGUMENT'];
        if (a !== ups) return ['ERR UNKNOWN-UPS'];
        if (stale) return ['ERR DATA-STALE'];
        return vars.has(b!) ? [`VAR ${ups} ${b} ${quoted(vars.get(b!)!)}`] : ['ERR VAR-NOT-SUPPORTED'];
      default:
        return ['ERR UNKNOWN-COMMAND'];
    }
  };

  const onData = (chunk: Buffer) => {
    if (silent) return;
    buffer += chunk.toString('utf8');
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line.trim()) send(answer(line));
    }
    if (buffer.length > 4096) buffer = '';
  };
  // The host end reconnecting starts a fresh conversation.
  const onClose = () => {
    buffer = '';
    user = undefined;
    passwordOk = false;
  };
  device.on('data', onData);
  device.on('close', onClose);
  if (!device.isOpen) device.open().catch(() => undefined);

  return {
    ups,
    commands,
    instcmds,
    stop() {
      stopped = true;
      device.off('data', onData);
      device.off('close', onClose);
    },
    setStale(s) {
      stale = s;
    },
    setSilent(s) {
      silent = s;
      buffer = '';
    },
    setVar(name, value) {
      vars.set(name, value);
    },
  };
}

export { NUT_UPS_DEMO_OPTIONS } from './demo-options.js';
