/**
 * The blueprint meter's protocol as data (a made-up single-phase meter; a real driver writes
 * here what the device's manual lists, with the manual named in docs/protocols/<family>.md).
 */

/** The one request: ASCII, ended by LF. */
export const READ_REQUEST = 'R?';

/** Reply keys → field names (the unit is the name's suffix: docs/fields.md). */
export const REPLY_KEYS: Readonly<Record<string, string>> = {
  V: 'voltage_v',
  A: 'current_a',
  W: 'power_w',
  E: 'energy_kwh',
};

/** Longest reply line accepted; a longer run without LF is line noise. */
export const MAX_LINE_BYTES = 128;
