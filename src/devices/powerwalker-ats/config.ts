/**
 * Options of the powerwalker-ats driver. The ATS offers no write commands through this
 * driver (the original had none); its memory map is read with `wattline ats <device> memory`.
 */
import { z } from 'zod';
import { requestTimeoutMs, retries } from '../powerwalker/config.js';

export const atsOptionsSchema = z.strictObject({ requestTimeoutMs, retries }).describe('PowerWalker ATS (protocol PI97); serial 2400 8N1 or USB HID');

export type AtsOptions = z.output<typeof atsOptionsSchema>;
