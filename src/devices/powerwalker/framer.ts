/**
 * PowerWalker reply framing (bytes -> replies): a reply ends at its CR; nothing else marks
 * it (docs/protocols/powerwalker.md §1.2). Pure, no I/O.
 */
import { DelimitedFramer } from '../kit/delimited-framer.js';

export const CR = 0x0d;
/** Longest reply we accept before the CR (QSR: 24 tokens of up to 7 characters, with room). */
export const MAX_REPLY_BYTES = 512;

/**
 * Collects reply bytes until a CR. NUL bytes (HID report padding, §1.1) are dropped where
 * they stand; a run of MAX_REPLY_BYTES without a CR is thrown away (counted by the caller).
 */
export class ReplyFramer extends DelimitedFramer {
  constructor() {
    super({ end: CR, maxBytes: MAX_REPLY_BYTES, skip: 0x00 });
  }
}
