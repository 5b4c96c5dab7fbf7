import { DeviceError } from '../../core/errors.js';

/** Why one unit gave no reading this poll. */
export type UnitFailure = 'timeout' | 'exception' | 'crc' | 'truncated' | 'frame' | 'port';

/**
 * One unit on the bus gave no reading: it costs that unit's points only. `reason` is what
 * callers branch on; `exceptionCode` is the Modbus exception code (2 = illegal data address).
 */
export class HdhkUnitError extends DeviceError {
  override name = 'HdhkUnitError';
  constructor(
    message: string,
    device: string,
    readonly unit: number,
    readonly reason: UnitFailure,
    readonly exceptionCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, device, options);
  }
}
