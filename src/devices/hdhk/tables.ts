/**
 * The HDHK register map as data (docs/protocols/hdhk.md §2.3, from the vendor sheet; the read the
 * original performs is §2.2). All registers are holding registers, unsigned 16-bit, read
 * with function 0x03.
 */

/** Modbus function the meter answers: Read Holding Registers (§2.2). */
export const FC_READ_HOLDING = 0x03;

/** Channels per unit, labelled a…p on the unit, 1…16 here (§2.2). */
export const CHANNELS = 16;

/** Valid Modbus RTU unit ids (0 is broadcast, 248–255 reserved); §2.1: default 1. */
export const UNIT_ID_MIN = 1;
export const UNIT_ID_MAX = 247;

export interface RegisterBlock {
  /** First register (decimal). */
  start: number;
  /** Number of registers. */
  count: number;
  /** What one count means, in the block's unit. */
  scale: number;
  unit: string;
  /** Where the fact comes from. */
  ref: string;
}

/** Registers 0–2: firmware version (628 = V6.2.8), current range of channels a–h and i–p in A. */
export const INFO: RegisterBlock = { start: 0, count: 3, scale: 1, unit: '', ref: 'docs/protocols/hdhk.md §2.3 regs 0x0000-0x0002' };

/** Registers 8–23: channel a…p current, 0.01 A per count before the CT ratio (the read of §2.2). */
export const CURRENT: RegisterBlock = { start: 8, count: CHANNELS, scale: 0.01, unit: 'A', ref: 'docs/protocols/hdhk.md §2.2, §2.3 regs 0x0008-0x0017' };

/** Registers 24–39: channel a…p frequency, 0.1 Hz per count. */
export const FREQUENCY: RegisterBlock = { start: 24, count: CHANNELS, scale: 0.1, unit: 'Hz', ref: 'docs/protocols/hdhk.md §2.3 regs 0x0018-0x0027' };

/** Default current per count: 0.01 A, which matches the supplied DL-CT08CL2 transformers (§2.2). */
export const DEFAULT_CT_RATIO = 0.01;

/**
 * Register 1 holds the range of channels a–h (1–8), register 2 that of i–p (9–16).
 * @param channel 1…16
 */
export function rangeRegisterFor(channel: number): 1 | 2 {
  return channel <= 8 ? 1 : 2;
}
