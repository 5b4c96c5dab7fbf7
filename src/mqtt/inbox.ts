/**
 * Messages the worker receives: Home Assistant's birth message, and commands. A command is
 * routed (commands.ts, or the PowerWalker compatibility topic) to `worker.control()`, which
 * validates it, checks the device's control config and runs it under the port lock; its
 * outcome is published on `<base>/result`, the new state on `<base>/state`. Everything that
 * is not a usable command is logged with the reason and ignored.
 */
import { ConfigError, InputError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ControlRequest, ControlResult } from '../devices/types.js';
import { parseCommand, type CommandSpec } from './commands.js';
import { parseCompatCommand } from './compat-powerwalker.js';
import { droppedPayloadBytes, MAX_INCOMING_PACKET_BYTES } from './packet-cap.js';

const MAX_COMMANDS_IN_FLIGHT = 16;
const MAX_COMMAND_BYTES = 256;
const COMMAND_TIMEOUT_MS = 30_000;

export type ControlFn = (device: string, verb: string, args: readonly string[], signal: AbortSignal) => Promise<{ request: ControlRequest; result: ControlResult }>;

export interface InboxOptions {
  prefix: string;
  /** `<discovery prefix>/status`, or null when discovery is off. */
  homeAssistantStatusTopic: string | null;
  /** PowerWalker compatibility: its prefix and the device its outlet commands go to. */
  compat: { prefix: string; pdu: string } | null;
  specsOf(device: string): readonly CommandSpec[] | undefined;
  control: ControlFn;
  log: Logger;
  /** Queue a message; `device` given: a retained topic to remember for that device. */
  send(topic: string, payload: string, retain: boolean, device?: string): void;
  homeAssistantOnline(): void;
  /** After a command finished (the output sends what is queued). */
  commandDone(): void;
}

export class CommandInbox {
  readonly counters = { commands: 0, refused: 0, failed: 0, ignored: 0 };
  private inFlight = 0;

  constructor(private readonly o: InboxOptions) {}

  handle(topic: string, payload: Buffer, retained: boolean): void {
    // Over the cap on incoming packets: its bytes were never kept (packet-cap.ts), whatever the topic.
    const dropped = droppedPayloadBytes(payload);
    if (dropped !== null) return this.ignore(topic, `payload of ${dropped} bytes, over the ${MAX_INCOMING_PACKET_BYTES}-byte cap on incoming messages: dropped unread`);
    if (topic === this.o.homeAssistantStatusTopic) {
      if (payload.toString('utf8').trim() === 'online' && !retained) {
        this.o.log.info('mqtt: Home Assistant came online; republishing discovery');
        this.o.homeAssistantOnline();
      }
      return;
    }
    // A retained command would switch the outlet again on every reconnect.
    if (retained) return this.ignore(topic, 'retained command (publish commands without the retain flag)');
    if (payload.length > MAX_COMMAND_BYTES) return this.ignore(topic, `payload of ${payload.length} bytes`);
    const text = payload.toString('utf8');
    const compat = this.o.compat;
    if (compat) {
      const c = parseCompatCommand(compat.prefix, topic, text);
      if (c && 'error' in c) return this.ignore(topic, c.error);
      if (c) return this.run(compat.pdu, c.verb, [c.outlet], `${this.o.prefix}/${compat.pdu}/outlet/${c.outlet}`, c.verb === 'on' ? 'ON' : 'OFF');
    }
    const parsed = parseCommand(this.o.prefix, topic, text, (d) => this.o.specsOf(d));
    if (!parsed.ok) return this.ignore(topic, parsed.reason);
    const spec = parsed.spec;
    const state = spec.component === 'switch' ? (parsed.verb === spec.onVerb ? 'ON' : 'OFF') : parsed.args[0]!;
    this.run(parsed.device, parsed.verb, parsed.args, parsed.base, state);
  }

  private ignore(topic: string, reason: string): void {
    this.counters.ignored++;
    this.o.log.warn({ topic, reason }, 'mqtt: message ignored');
  }

  private run(device: string, verb: string, args: string[], base: string, state: string): void {
    if (this.inFlight >= MAX_COMMANDS_IN_FLIGHT) return this.ignore(base, 'too many commands waiting');
    this.counters.commands++;
    this.inFlight++;
    const result = (outcome: Record<string, unknown>) => this.o.send(`${base}/result`, JSON.stringify({ ...outcome, verb, args, time: new Date().toISOString() }), false);
    this.o
      .control(device, verb, args, AbortSignal.timeout(COMMAND_TIMEOUT_MS))
      .then(({ request, result: r }) => {
        result({ ok: true, summary: request.summary, message: r.message, ...(r.data ? { data: r.data } : {}) });
        this.o.send(`${base}/state`, state, true, device);
      })
      .catch((err: unknown) => {
        // Not allowed or out of range (the driver's prepare) is a refusal; NAK or no answer a failure.
        const refused = err instanceof ConfigError || err instanceof InputError;
        if (refused) this.counters.refused++;
        else this.counters.failed++;
        this.o.log.warn({ device, verb, args, err: errorMessage(err) }, refused ? 'mqtt command refused' : 'mqtt command failed');
        result({ ok: false, refused, error: errorMessage(err) });
      })
      .finally(() => {
        this.inFlight--;
        this.o.commandDone();
      });
  }
}
