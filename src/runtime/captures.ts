/**
 * What a device session's `ctx.capture` feeds: the capture archive (devices with
 * `capture: on`) and, for mqtt.vscp, the raw telegrams of the next collection. The archive is
 * best effort: its failures are logged now and then and never reach a driver or a collection.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { LoadedConfig } from '../config/load.js';
import type { Driver, DriverContext } from '../devices/types.js';
import type { CaptureStore } from '../outbox/capture-store.js';
import { openCaptures } from '../assembly/stores.js';
import type { DeviceRuntime, RawTelegram } from './types.js';

type CaptureFn = NonNullable<DriverContext<unknown>['capture']>;

/** Raw telegrams kept between two collections at most (a stalled schedule must not grow memory). */
const MAX_RAW_PER_COLLECT = 64;

export class CaptureArchive {
  /** Open when a device has `capture: on` (not for `test`). */
  private store: CaptureStore | null = null;
  private failures = 0;

  constructor(private readonly log: Logger) {}

  get open(): boolean {
    return this.store !== null;
  }

  /** Open the archive the config names, unless open already (a failure leaves it closed). */
  openFor(loaded: LoadedConfig): void {
    this.store ??= this.safely(() => openCaptures(loaded)) ?? null;
  }

  /** ctx.capture for one device: records carry device, driver and cycle; a failure never reaches the driver. */
  hook(device: string, driver: Driver, runtimeOf: () => DeviceRuntime | undefined): CaptureFn | undefined {
    const store = this.store;
    if (!store) return undefined;
    return (direction, data, timeMs) => {
      this.safely(() =>
        store.add({
          timeMs,
          device,
          driver: driver.id,
          cycle: driver.kind === 'poll' ? (runtimeOf()?.cycle ?? null) : null,
          direction,
          // Telegram text keeps its bytes as Latin-1 (the P1 framer's reading of them).
          text: typeof data === 'string',
          data: typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data),
        }),
      );
    };
  }

  /** Poll drivers: the records of one collect() share a cycle id (decodeCapture gets them together). */
  nextCycle(): number | null {
    return this.safely(() => this.store!.nextCycle()) ?? null;
  }

  /**
   * A poll the worker itself cut short leaves half an exchange, which backfill would decode as
   * a broken capture; its records are still buffered (flush() runs when collect() ends): drop them.
   */
  discardCycle(device: string, cycle: number): void {
    this.safely(() => this.store?.discardPending(device, cycle));
  }

  flush(): void {
    this.safely(() => this.store?.flush());
  }

  close(): void {
    this.safely(() => this.store?.close());
  }

  /** Run a capture-archive step; failures are logged (now and then) and never break collection. */
  private safely<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (this.failures++ % 100 === 0) this.log.warn({ err: errorMessage(err), failures: this.failures }, 'capture archive failed; collection goes on without it');
      return undefined;
    }
  }
}

/** ctx.capture that also keeps received telegrams in `raw` (for mqtt.vscp), passing everything on to `archive`. */
export function withRawTelegrams(raw: RawTelegram[], archive: CaptureFn | undefined): CaptureFn {
  return (direction, data, timeMs) => {
    archive?.(direction, data, timeMs);
    if (direction === 'rx' && raw.length < MAX_RAW_PER_COLLECT) raw.push({ text: typeof data === 'string' ? data : data.toString('latin1'), timeMs });
  };
}
