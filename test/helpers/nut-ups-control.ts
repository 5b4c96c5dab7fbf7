/**
 * A nut-ups control verb run the way `wattline control` runs it without a worker: a session
 * on the link (a sim link, or TCP to options.host:port), prepare, control, close.
 */
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { nutUpsDriver, type NutUpsOptions } from '../../src/devices/nut-ups/index.js';
import type { ControlResult } from '../../src/devices/types.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import type { Transport } from '../../src/transports/transport.js';

export async function nutUpsVerb(options: NutUpsOptions, verb: string, args: readonly string[], transport?: Transport, device = 'rack-ups'): Promise<ControlResult> {
  const link = transport ?? new TcpTransport({ host: options.host, port: options.port });
  const session = nutUpsDriver.createSession({ device, options, tags: {}, transport: link, clock: systemClock, log: silentLogger() });
  try {
    const request = nutUpsDriver.control!.prepare(verb, args, options, device);
    return await session.control!(request, AbortSignal.timeout(options.timeoutMs * 20));
  } finally {
    await session.close();
  }
}

/** The instant commands `commands` listed, as data. */
export function listed(result: ControlResult): { name: string; description?: string }[] {
  return (result.data?.commands ?? []) as { name: string; description?: string }[];
}
