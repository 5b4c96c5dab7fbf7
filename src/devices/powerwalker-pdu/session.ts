/**
 * The PDU session: QPI once per connection (shared base), QMD + QVFW on the first poll of
 * each connection, then QGS, QPW, QPVA, QEC, QSR every poll; control commands from
 * control.ts, never retried, NAK an error.
 */
import { InputError } from '../../core/errors.js';
import type { CollectResult, ControlRequest, ControlResult, DriverContext } from '../types.js';
import { PowerwalkerError } from '../powerwalker/link.js';
import { PowerwalkerSession, readAll } from '../powerwalker/session.js';
import { decodeMemory, decodeStatus, memoryCommand, OUTLET_STATUS, OUTLETS, type MemoryValue } from './codec.js';
import type { PduOptions } from './config.js';
import { switchCommand, type PduControlParams } from './control.js';
import { INFO_COMMANDS, POLL_COMMANDS, pduPoints, type PduPoll } from './points.js';

export class PduSession extends PowerwalkerSession<PduOptions> {
  constructor(ctx: DriverContext<PduOptions>) {
    super(ctx, 'PI90');
  }

  protected async poll(signal: AbortSignal, t0: number, withInfo: boolean, protocol?: string): Promise<CollectResult> {
    const { retries } = this.ctx.options;
    const commands = withInfo ? [...INFO_COMMANDS, ...POLL_COMMANDS] : POLL_COMMANDS;
    const { values, failures } = await readAll(this.link, commands, retries, signal);
    const poll = values as PduPoll;
    if (protocol) poll.protocol = protocol;
    const polled = POLL_COMMANDS.filter((c) => values[c.key] !== undefined);
    this.lastFailures = failures;
    if (polled.length === 0) {
      const first = failures[0]!;
      if (failures.length === 1) throw first;
      throw new PowerwalkerError(`${this.ctx.device}: no usable reply (${failures.map((f) => f.message.replace(`${this.ctx.device}: `, '')).join('; ')})`, this.ctx.device, first.reason, first.command, { cause: first });
    }
    this.lastFailures = failures;
    for (const f of failures) this.ctx.log.warn({ command: f.command, reason: f.reason }, f.message);
    const result: CollectResult = { points: pduPoints(poll, this.ctx, t0) };
    if (failures.length > 0) result.dropped = failures.map((f) => ({ reason: `${f.command}: ${f.reason}`, count: 1 }));
    return result;
  }

  protected async runControl(request: ControlRequest, signal: AbortSignal): Promise<ControlResult> {
    const p = request.params as PduControlParams;
    switch (p.kind) {
      case 'memory': {
        const m = await this.link.query(memoryCommand(p.address), (payload) => decodeMemory(payload, p.address), 0, signal);
        return { message: memoryText(m), data: { ...m } };
      }
      case 'command':
        await this.link.command(p.command, signal);
        return { message: `${request.summary}: accepted (ACK)`, data: { command: p.command, reply: 'ACK' } };
      case 'switch':
        return this.switchOutlets(p.outlet, p.to, signal);
    }
    throw new InputError(`${this.ctx.device}: unknown control request`);
  }

  /**
   * on/off with the original's recipe (§1.4), but only for outlets not already there: an
   * "on" sent to an outlet that is on would power-cycle it (shutdown, then restore).
   */
  private async switchOutlets(outlet: number | 'A', to: 'on' | 'off', signal: AbortSignal): Promise<ControlResult> {
    const status = await this.link.query('QGS', decodeStatus, this.ctx.options.retries, signal);
    const wanted = outlet === 'A' ? Array.from({ length: OUTLETS }, (_, i) => i + 1) : [outlet];
    const already = to === 'on' ? 1 : 0;
    const todo = wanted.filter((o) => status.outletStatus[o - 1] !== already);
    if (todo.length === 0) {
      return { message: `${outlet === 'A' ? 'every outlet is' : `outlet ${outlet} is`} already ${to}; nothing sent`, data: { outlets: [], already: wanted } };
    }
    // All of them at once when all eight need it; otherwise one command per outlet.
    const commands = outlet === 'A' && todo.length === OUTLETS ? [switchCommand('A', to)] : todo.map((o) => switchCommand(o, to));
    for (const c of commands) await this.link.command(c, signal);
    const before = todo.map((o) => `${o}: ${OUTLET_STATUS[status.outletStatus[o - 1]!] ?? '?'}`).join(', ');
    const how = to === 'off' ? 'off in 6 s, after the "shutdown imminent" warning' : 'on in about 7 s (shutdown in 0.1 min, restore after 1 s)';
    return {
      message: `outlet${todo.length > 1 ? 's' : ''} ${todo.join(', ')} switching ${how} (was ${before})`,
      data: { outlets: todo, commands, already: wanted.filter((o) => !todo.includes(o)) },
    };
  }
}

function memoryText(m: MemoryValue): string {
  if (m.kind === 'outlet') {
    const bits = [`on at power-on: ${m.onAtPowerOn ? 'yes' : 'no'}`, `disconnect 1 min after an overload: ${m.overloadDisconnect ? 'yes' : 'no'}`, `front button: ${m.buttonEnabled ? 'enabled' : 'disabled'}`];
    return `memory ${m.address}: outlet ${m.outlet} current alarm ${m.currentAlarmA} A, config 0x${m.config.toString(16).padStart(2, '0')} (${bits.join(', ')})`;
  }
  return `memory ${m.address}: ${m.key} = ${m.disabled ? 'disabled (0xFFFF)' : `${m.value} ${m.unit}`}`;
}
