/**
 * Pure HDHK decoding: register words in, readings out. No I/O, no clock.
 * Facts from docs/protocols/hdhk.md §2.2-§2.3; the Modbus framing and CRC are framer.ts.
 */
import { FrameError } from '../../core/errors.js';
import { CHANNELS, CURRENT, FREQUENCY, INFO, rangeRegisterFor } from './tables.js';

export interface UnitInfo {
  /** Register 0 as printed by the vendor: 628 -> "6.2.8". */
  firmware: string;
  /** Current range of channels a–h and i–p, A (registers 1 and 2). */
  rangeAH: number;
  rangeIP: number;
}

export interface ChannelReading {
  /** 1…16 */
  channel: number;
  /** Raw register value (counts). */
  raw: number;
  /** raw × ctRatio, A, rounded to 0.01 mA to keep float noise out of the series. */
  currentA: number;
  /** Only when the frequency registers were read. */
  frequencyHz?: number;
}

/** "628" -> "6.2.8": one digit per part, as the vendor sheet reads it (§2.3). */
export function decodeFirmware(word: number): string {
  return String(word).split('').join('.');
}

export function decodeInfo(words: readonly number[]): UnitInfo {
  expectWords(words, INFO.count, 'info registers 0-2');
  return { firmware: decodeFirmware(words[0]!), rangeAH: words[1]!, rangeIP: words[2]! };
}

/** The current range (A) that applies to a channel. */
export function channelRange(info: UnitInfo, channel: number): number {
  return rangeRegisterFor(channel) === 1 ? info.rangeAH : info.rangeIP;
}

/**
 * Currents (and optionally frequencies) of all 16 channels.
 * @param current the 16 words of registers 8-23
 * @param ctRatio A per count, per channel (index 0 = channel 1)
 * @param frequency the 16 words of registers 24-39, when read
 */
export function decodeChannels(current: readonly number[], ctRatio: (channel: number) => number, frequency?: readonly number[]): ChannelReading[] {
  expectWords(current, CURRENT.count, 'current registers 8-23');
  if (frequency) expectWords(frequency, FREQUENCY.count, 'frequency registers 24-39');
  const out = new Array<ChannelReading>(CHANNELS);
  for (let i = 0; i < CHANNELS; i++) {
    const channel = i + 1;
    const raw = current[i]!;
    const r: ChannelReading = { channel, raw, currentA: Math.round(raw * ctRatio(channel) * 1e5) / 1e5 };
    if (frequency) r.frequencyHz = Math.round(frequency[i]! * FREQUENCY.scale * 1e3) / 1e3;
    out[i] = r;
  }
  return out;
}

/** The register words of a Modbus FC03 reply's data part (byte count already stripped). */
export function wordsFromBytes(data: Uint8Array): number[] {
  if (data.length % 2 !== 0) throw new FrameError(`odd register byte count ${data.length}`, 'length');
  const words: number[] = [];
  for (let i = 0; i < data.length; i += 2) words.push((data[i]! << 8) | data[i + 1]!);
  return words;
}

// Indexed loops and literal factors on the per-poll path: the daemon runs interpreted
// (daemon-v8.ts), where for...of allocates an iterator result per element and 32 gateways a
// second made the young generation's collections land inside the tick (issue 20's bench).
function expectWords(words: readonly number[], n: number, what: string): void {
  if (words.length !== n) throw new FrameError(`${what}: expected ${n} registers, got ${words.length}`, 'length');
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw new FrameError(`${what}: ${w} is not a 16-bit register value`, 'syntax');
  }
}
