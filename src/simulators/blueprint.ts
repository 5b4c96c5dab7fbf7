/**
 * The device end of the blueprint meter (src/devices/_blueprint/): answers `R?` with a reply
 * line built from its own values and the protocol's rule (XOR checksum), never from the
 * driver's codec, and acts out the faults on demand: silence, a bad checksum, line noise.
 * Registered nowhere, like the blueprint; a new driver's simulator also gets a line in
 * src/simulators/index.ts (docs/adding-a-driver.md).
 */
import type { Transport } from '../transports/transport.js';

export type BlueprintFault = 'none' | 'silence' | 'bad-checksum' | 'noise';

export interface BlueprintSimulator {
  stop(): void;
  setFault(fault: BlueprintFault): void;
  readonly requests: number;
}

/** The meter's values, as the reply carries them (text, as a device sends it). */
export const BLUEPRINT_VALUES = { V: '230.1', A: '1.250', W: '287', E: '1234.56' } as const;

export function blueprintReply(values: Record<string, string> = BLUEPRINT_VALUES): string {
  const body = Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  let x = 0;
  for (const c of Buffer.from(body, 'latin1')) x ^= c;
  return `${body}*${x.toString(16).toUpperCase().padStart(2, '0')}\n`;
}

export function startBlueprintSimulator(device: Transport): BlueprintSimulator {
  let fault: BlueprintFault = 'none';
  let pending = '';
  let requests = 0;
  const onData = (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const request = pending.slice(0, i).replace(/\r$/, '');
      pending = pending.slice(i + 1);
      if (request !== 'R?') continue;
      requests++;
      if (fault === 'silence') continue;
      let reply = blueprintReply();
      if (fault === 'bad-checksum') reply = reply.replace(/\*[0-9A-F]{2}/, (m) => (m === '*00' ? '*01' : '*00'));
      if (fault === 'noise') reply = `\x7f#?!${'x'.repeat(200)}\n`;
      device.write(Buffer.from(reply, 'latin1')).catch(() => undefined);
    }
  };
  device.on('data', onData);
  return {
    stop: () => device.off('data', onData),
    setFault: (f) => (fault = f),
    get requests() {
      return requests;
    },
  };
}
