/**
 * The device end of a PowerWalker link (PDU and ATS simulators share it): requests are
 * ASCII up to CR, each answered with `(` payload CR after an optional reply delay, and the
 * failures a real line shows acted out on demand: silence, garbage, a reply
 * without `(`, one field too many, half a reply, NAK. Built from docs/protocols/powerwalker.md §1.2 alone,
 * never from the driver's codec.
 */
import { remember } from './history.js';
import type { Transport } from '../transports/transport.js';

export type PowerwalkerFault = 'none' | 'silence' | 'garbage' | 'no-paren' | 'extra-field' | 'short-status' | 'half' | 'nak';

export interface FaultSpec {
  /** Only this request (e.g. `QGS`); default every request. */
  command?: string;
  /** How many replies to spoil, then behave again; default until cleared. */
  times?: number;
}

export interface LineOptions {
  /** Wait this long (ms) after a request before answering (the device's own think time). */
  replyDelayMs?: number;
}

export interface PowerwalkerLine {
  stop(): void;
  setFault(fault: PowerwalkerFault, spec?: FaultSpec): void;
  /** Every request received, without CR, in order (the last HISTORY_LIMIT or fewer). */
  readonly requests: string[];
}

/** `answer(request)` gives the payload after `(`, or null for a request the device does not know (NAK). */
export function servePowerwalker(device: Transport, answer: (request: string) => string | null, options: LineOptions = {}): PowerwalkerLine {
  let fault: { kind: PowerwalkerFault; command?: string; left: number } = { kind: 'none', left: Infinity };
  const requests: string[] = [];
  let pending = '';
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  const send = (text: string) => {
    if (stopped || !device.isOpen) return;
    device.write(Buffer.from(text, 'latin1')).catch(() => undefined);
  };

  const respond = (request: string) => {
    remember(requests, request);
    const payload = answer(request) ?? 'NAK';
    let reply = `(${payload}\r`;
    const spoil = fault.kind !== 'none' && fault.left > 0 && (fault.command === undefined || fault.command === request);
    if (spoil) {
      fault.left--;
      switch (fault.kind) {
        case 'silence':
          return;
        case 'garbage':
          reply = '\x7f#!?garbage\r';
          break;
        case 'no-paren':
          reply = `${payload}\r`;
          break;
        case 'extra-field':
          reply = `(${payload} 0\r`;
          break;
        case 'short-status':
          // The first field one character short: a status string of the wrong length.
          reply = `(${payload.replace(/^(\S*)\S/, '$1')}\r`;
          break;
        case 'half':
          reply = `(${payload.slice(0, Math.max(1, payload.length >> 1))}`;
          break;
        case 'nak':
          reply = '(NAK\r';
          break;
      }
    }
    const delay = options.replyDelayMs ?? 0;
    if (delay <= 0) return send(reply);
    const t = setTimeout(() => {
      timers.delete(t);
      send(reply);
    }, delay);
    timers.add(t);
  };

  const onData = (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let cr: number;
    while ((cr = pending.indexOf('\r')) >= 0) {
      const request = pending.slice(0, cr).replace(/^[\0\n]+/, '');
      pending = pending.slice(cr + 1);
      if (request.length > 0) respond(request);
    }
    if (pending.length > 256) pending = '';
  };
  device.on('data', onData);
  device.on('error', () => undefined);
  if (!device.isOpen) device.open().catch(() => undefined);

  return {
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      device.off('data', onData);
    },
    setFault(kind, spec = {}) {
      fault = { kind, command: spec.command, left: spec.times ?? Infinity };
    },
    requests,
  };
}
