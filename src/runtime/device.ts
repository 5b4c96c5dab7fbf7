/** One device in the runtime: built (link, session, what its capture feeds), started, collected from, closed. */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import type { CollectResult, Driver } from '../devices/types.js';
import { VSCP_DRIVER } from '../vscp/output.js';
import { openDevice } from '../assembly/device.js';
import { abortedByStop } from '../scheduler/index.js';
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

/** How often once/test look again for a stream device's first frame. */
const STREAM_WAIT_STEP_MS = 100;

/**
 * One collect() of the device's session, with what the capture archive needs around it.
 * `waitForStream` (once, test): a stream device that has no telegram yet is asked again until
 * it has one (or the signal ends the job), rather than reporting nothing.
 */
export async function collectFrom(rt: DeviceRuntime, signal: AbortSignal, o: { captures: CaptureArchive; clock: Clock; waitForStream: boolean }): Promise<CollectResult> {
  // Poll drivers: the records of one collect() share a cycle id (decodeCapture gets them together).
  if (o.captures.open && rt.config.capture && rt.driver.kind === 'poll') rt.cycle = o.captures.nextCycle();
  let result: CollectResult;
  try {
    result = await rt.session.collect(signal);
  } catch (err) {
    // Stopping (or reloading) aborts a poll mid-exchange: that half exchange is the worker's doing,
    // not the device's, and no point came of it. A timeout's records stay: they are the device's.
    if (typeof rt.cycle === 'number' && rt.config.capture && abortedByStop(signal)) o.captures.discardCycle(rt.config.name, rt.cycle);
    throw err;
  } finally {
    if (rt.config.capture) o.captures.flush();
  }
  while (o.waitForStream && rt.driver.kind === 'stream' && result.points.length === 0) {
    await o.clock.sleep(STREAM_WAIT_STEP_MS, signal);
    result = await rt.session.collect(signal);
  }
  return result;
}

export async function closeRuntime(rt: DeviceRuntime): Promise<void> {
  await rt.session.close().catch(() => undefined);
  rt.simulator?.stop();
}
