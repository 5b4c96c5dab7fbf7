/**
 * The PDU session: QPI once per connection (shared base), QMD + QVFW on the first poll of
 * each connection, then QGS, QPW, QPVA, QEC, QSR every poll; control commands from
 * control.ts, never retried, NAK an error.
 */
import { DeviceError, InputError } from '../../core/errors.js';
import type { CollectResult, ControlRequest, ControlResult, DriverContext } from '../types.js';
import { tally, type FieldProblem } from '../problems.js';
import { PowerwalkerError } from '../powerwalker/errors.js';
import { PowerwalkerSession, readAll } from '../powerwalker/session.js';
import { cancelCommand, decodeMemory, decodeStatus, memoryCommand, OUTLET_STATUS, OUTLETS, type MemoryValue } from './codec.js';
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
    const problems: FieldProblem[] = [];
    const result: CollectResult = { points: pduPoints(poll, this.ctx, t0, problems) };
    for (const p of problems) this.ctx.log.warn({ reason: p.reason, detail: p.detail }, 'pdu: field left out');
    const dropped = [...failures.map((f) => ({ reason: `${f.command}: ${f.reason}`, count: 1 })), ...tally(problems)];
    if (dropped.length > 0) result.dropped = dropped;
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
   * on/off with the original's recipe (§1.4), chosen per outlet from its status: the recipe
   * sent to an outlet that is on would switch it off and on again, so
   * - on: on or in overload alarm (5) → nothing; shutdown pending (2, 3) → cancel it (CS);
   *   restore active (4) → nothing, it is coming on; off or locked → the recipe;
   * - off: off (0) → nothing; restore active (4) → cancel the restore (CS), it stays off;
   *   otherwise → shutdown in 0.1 min (the PDU warns "shutdown imminent" first).
   */
  private async switchOutlets(outlet: number | 'A', to: 'on' | 'off', signal: AbortSignal): Promise<ControlResult> {
    const status = await this.link.query('QGS', decodeStatus, this.ctx.options.retries, signal);
    const wanted = outlet === 'A' ? Array.from({ length: OUTLETS }, (_, i) => i + 1) : [outlet];
    const plan = new Map<number, 'recipe' | 'cancel'>();
    for (const o of wanted) {
      const code = status.outletStatus[o - 1]!;
      // Never switch an outlet whose state the PDU reports in a code we do not know.
      if (code >= OUTLET_STATUS.length) throw new DeviceError(`${this.ctx.device}: outlet ${o} reports status code ${code}, which is not in the table (0-${OUTLET_STATUS.length - 1}); nothing sent`, this.ctx.device);
      const action = to === 'on' ? ON_PLAN[code] : OFF_PLAN[code];
      if (action) plan.set(o, action);
    }
    const todo = [...plan.keys()];
    const already = wanted.filter((o) => !plan.has(o));
    if (todo.length === 0) {
      const states = wanted.map((o) => OUTLET_STATUS[status.outletStatus[o - 1]!]);
      return { message: `${outlet === 'A' ? 'every outlet is' : `outlet ${outlet} is`} already ${to} or on its way (${[...new Set(states)].join(', ')}); nothing sent`, data: { outlets: [], already } };
    }
    // All eight the same way: one command for all (A); otherwise one per outlet.
    const allSame = outlet === 'A' && todo.length === OUTLETS && new Set(plan.values()).size === 1;
    const command = (o: number | 'A', action: 'recipe' | 'cancel') => (action === 'cancel' ? cancelCommand(o) : switchCommand(o, to));
    const commands = allSame ? [command('A', plan.get(1)!)] : todo.map((o) => command(o, plan.get(o)!));
    for (const c of commands) await this.link.command(c, signal);
    const was = todo.map((o) => `${o}: ${OUTLET_STATUS[status.outletStatus[o - 1]!] ?? '?'}`).join(', ');
    const how = (o: number) =>
      plan.get(o) === 'cancel'
        ? to === 'on'
          ? 'stays on (pending shutdown cancelled)'
          : 'stays off (pending restore cancelled)'
        : to === 'off'
          ? 'switches off in 6 s, after the "shutdown imminent" warning'
          : 'switches on in about 7 s (shutdown in 0.1 min, restore after 1 s)';
    const lines = [...new Set(todo.map(how))].map((h) => `outlet${todo.filter((o) => how(o) === h).length > 1 ? 's' : ''} ${todo.filter((o) => how(o) === h).join(', ')} ${h}`);
    return { message: `${lines.join('; ')} (was ${was})`, data: { outlets: todo, commands, already } };
  }
}

/** Status code (§1.5) → what `on` / `off` must send; undefined: nothing. */
const ON_PLAN: Record<number, 'recipe' | 'cancel' | undefined> = { 0: 'recipe', 1: undefined, 2: 'cancel', 3: 'cancel', 4: undefined, 5: undefined, 6: 'recipe' };
const OFF_PLAN: Record<number, 'recipe' | 'cancel' | undefined> = { 0: undefined, 1: 'recipe', 2: 'recipe', 3: 'recipe', 4: 'cancel', 5: 'recipe', 6: 'recipe' };

function memoryText(m: MemoryValue): string {
  if (m.kind === 'outlet') {
    const bits = [`on at power-on: ${m.onAtPowerOn ? 'yes' : 'no'}`, `disconnect 1 min after an overload: ${m.overloadDisconnect ? 'yes' : 'no'}`, `front button: ${m.buttonEnabled ? 'enabled' : 'disabled'}`];
    return `memory ${m.address}: outlet ${m.outlet} current alarm ${m.currentAlarmA} A, config 0x${m.config.toString(16).padStart(2, '0')} (${bits.join(', ')})`;
  }
  return `memory ${m.address}: ${m.key} = ${m.disabled ? 'disabled (0xFFFF)' : `${m.value} ${m.unit}`}`;
}
