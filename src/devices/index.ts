/**
 * The driver registry: every driver folder is listed here, once.
 * Adding a device touches its folder and one line of this list.
 */
import { dsmrP1Driver } from './dsmr-p1/index.js';
import { hdhkDriver } from './hdhk/index.js';
import { ithoWpuDriver } from './itho-wpu/index.js';
import { nutUpsDriver } from './nut-ups/index.js';
import { powerwalkerAtsDriver } from './powerwalker-ats/index.js';
import { powerwalkerPduDriver } from './powerwalker-pdu/index.js';
import type { Driver } from './types.js';
import { victronVebusDriver } from './victron-vebus/index.js';

export const drivers: readonly Driver[] = [dsmrP1Driver, hdhkDriver, nutUpsDriver, victronVebusDriver, ithoWpuDriver, powerwalkerPduDriver, powerwalkerAtsDriver];

export function findDriver(id: string): Driver | undefined {
  return drivers.find((d) => d.id === id);
}
