/** The PowerWalker family's device error: the reason says which failure a poll may survive. */
import { DeviceError } from '../../core/errors.js';

export type PowerwalkerErrorReason = 'reply' | 'truncated' | 'nak' | 'identity';

/** The device answered, but not usefully: a malformed or stale reply, half a reply, NAK, or the wrong device. */
export class PowerwalkerError extends DeviceError {
  override name = 'PowerwalkerError';
  constructor(
    message: string,
    device: string,
    readonly reason: PowerwalkerErrorReason,
    readonly command: string,
    options?: { cause?: unknown },
  ) {
    super(message, device, options);
  }
}
