/** One device in the runtime: built (link, session, what its capture feeds), started, closed. */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import type { Driver } from '../devices/types.js';
import { VSCP_DRIVER } from '../vscp/output.js';
import { openDevice } from '../assembly/device.js';
import { withRawTelegrams, type CaptureArchive } from './captures.js';
import type { DeviceRuntime, RawTelegram } from './types.js';

export interface BuildOptions {
  clock: Clock;
  /** Handed to the session (one-shot verbs quieten it). */
  log: Logger;
  captures: CaptureArchive;
  /** The runtime the capture hook reads the cycle id from, once it exists. */
  runtimeOf: () => DeviceRuntime | undefined;
  dryRun?: boolean | undefined;
  oneShot?: boolean | undefined;
}

/** A device's link and session, not yet started. */
export function buildRuntime(loaded: LoadedConfig, device: DeviceConfig, driver: Driver, o: BuildOptions): DeviceRuntime {
  const archive = device.capture ? o.captures.hook(device.name, driver, o.runtimeOf) : undefined;
  // mqtt.vscp publishes the P1 meter's own digits, so it needs the telegrams, not just the points.
  const raw: RawTelegram[] | undefined = loaded.config.mqtt?.vscp && driver.id === VSCP_DRIVER && !o.dryRun ? [] : undefined;
  const capture = raw ? withRawTelegrams(raw, archive) : archive;
  const { transport, simulator, session, link } = openDevice(loaded, device, driver, { clock: o.clock, log: o.log, capture, readOnly: o.dryRun, oneShot: o.oneShot });
  return { config: device, driver, link, transport, session, simulator, cycle: null, ...(raw ? { raw } : {}) };
}

/** Open every session; a device that cannot start is that device's problem, not the worker's. */
export async function startRuntimes(runtimes: Iterable<DeviceRuntime>, log: Logger, oneShot: boolean): Promise<void> {
  await Promise.all(
    [...runtimes].map(async (rt) => {
      try {
        await rt.simulator?.ready;
        await rt.session.start();
      } catch (err) {
        if (oneShot) log.debug({ device: rt.config.name, err: errorMessage(err) }, 'device did not start');
        else log.warn({ device: rt.config.name, err: errorMessage(err) }, 'device did not start; will retry on its next job');
      }
    }),
  );
}

export async function closeRuntime(rt: DeviceRuntime): Promise<void> {
  await rt.session.close().catch(() => undefined);
  rt.simulator?.stop();
}
