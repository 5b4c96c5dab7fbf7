/** The nut-ups driver's error: what the session, STARTTLS and the control verbs throw when upsd answers but not usefully. */
import { DeviceError } from '../../core/errors.js';

export type NutUpsErrorReason = 'unknown-ups' | 'data-stale' | 'waiting' | 'driver-not-connected' | 'access-denied' | 'login' | 'timeout' | 'protocol' | 'nut' | 'tls';

/** The UPS or upsd answered, but not usefully; `reason` is what callers branch on. */
export class NutUpsError extends DeviceError {
  override name = 'NutUpsError';
  constructor(
    message: string,
    device: string,
    readonly reason: NutUpsErrorReason,
    /** For reason unknown-ups: the UPS names upsd listed. */
    readonly knownUps: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, device, options);
  }
}

export function isNutUpsError(err: unknown, reason?: NutUpsErrorReason): err is NutUpsError {
  return err instanceof NutUpsError && (reason === undefined || err.reason === reason);
}
