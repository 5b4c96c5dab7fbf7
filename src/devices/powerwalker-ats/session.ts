/** The ATS session: QPI once per connection, QRI + QVFW on the first poll of each, QATS + QAS every poll. */
import { InputError } from '../../core/errors.js';
import type { CollectResult, ControlRequest, ControlResult, DriverContext } from '../types.js';
import { PowerwalkerError } from '../powerwalker/errors.js';
import { PowerwalkerSession, readAll } from '../powerwalker/session.js';
import { atsMemoryCommand, decodeAtsMemory } from './codec.js';
import type { AtsOptions } from './config.js';
import { atsPoints, INFO_COMMANDS, POLL_COMMANDS, type AtsPoll } from './points.js';

export class AtsSession extends PowerwalkerSession<AtsOptions> {
  constructor(ctx: DriverContext<AtsOptions>) {
    super(ctx, 'PI97');
  }

  protected async poll(signal: AbortSignal, t0: number, withInfo: boolean, protocol?: string): Promise<CollectResult> {
    const commands = withInfo ? [...INFO_COMMANDS, ...POLL_COMMANDS] : POLL_COMMANDS;
    const { values, failures } = await readAll(this.link, commands, this.ctx.options.retries, signal);
    const poll = values as AtsPoll;
    if (protocol) poll.protocol = protocol;
    this.lastFailures = failures;
    if (!POLL_COMMANDS.some((c) => values[c.key] !== undefined)) {
      const first = failures[0]!;
      if (failures.length === 1) throw first;
      throw new PowerwalkerError(`${this.ctx.device}: no usable reply (${failures.map((f) => f.message.replace(`${this.ctx.device}: `, '')).join('; ')})`, this.ctx.device, first.reason, first.command, { cause: first });
    }
    this.lastFailures = failures;
    for (const f of failures) this.ctx.log.warn({ command: f.command, reason: f.reason }, f.message);
    const result: CollectResult = { points: atsPoints(poll, this.ctx, t0) };
    if (failures.length > 0) result.dropped = failures.map((f) => ({ reason: `${f.command}: ${f.reason}`, count: 1 }));
    return result;
  }

  protected async runControl(request: ControlRequest, signal: AbortSignal): Promise<ControlResult> {
    const p = request.params as { kind: string; address: number };
    if (p.kind !== 'memory') throw new InputError(`${this.ctx.device}: unknown control request`);
    const m = await this.link.query(atsMemoryCommand(p.address), (payload) => decodeAtsMemory(payload, p.address), 0, signal);
    return { message: `memory ${m.address}: ${m.key} = ${m.value}`, data: { ...m } };
  }
}
