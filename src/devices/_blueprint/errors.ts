/** The blueprint's device error: the device answered, but not usefully (bad checksum, bad form). */
import { DeviceError } from '../../core/errors.js';

export class BlueprintError extends DeviceError {
  override name = 'BlueprintError';
}
