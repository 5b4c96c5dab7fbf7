import type { Driver } from '../devices/types.js';
import type { DeviceConfig } from './schema.js';
import { maskUrl } from './secrets.js';

/** Where a device is reached, for people (config check, devices): a tcp:// or rfc2217:// URL's credentials masked. */
export function describeLink(d: DeviceConfig, driver: Driver | undefined): string {
  if (d.simulate) return 'simulated';
  if (driver?.link === 'network' && driver.networkAddress) {
    const { host, port } = driver.networkAddress(d.options);
    return `${host}:${port}`;
  }
  if (d.port) return maskUrl(d.port.path);
  if (d.hid) return d.hid.path ?? `usb ${d.hid.vendorId}:${d.hid.productId}`;
  return '-';
}
