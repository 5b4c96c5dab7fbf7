/**
 * Synthetic P1 telegram logs for backfill tests and the backfill benchmark: DSMR 5 telegrams,
 * one a second, the meter clock (0-0:1.0.0) set, values changing with every telegram. Built
 * from the DSMR 5.0.2 layout with an own CRC-16/ARC (not the driver's codec or CRC).
 */

/** CRC-16/ARC, bit by bit (poly 0xA001 reflected, init 0). */
export function crc16arc(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i) & 0xff;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** January 2026 (winter time, UTC+1 in Europe/Amsterdam): the meter's YYMMDDhhmmssW. */
function meterTime(utcMs: number): string {
  const d = new Date(utcMs + 3_600_000);
  return `${pad(d.getUTCFullYear() % 100, 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}W`;
}

/** Unix ms of telegram 0; whole seconds. */
export const P1_LOG_T0_MS = Date.UTC(2026, 0, 10, 0, 0, 0);

export function p1Telegram(n: number): string {
  const kwh = (v: number) => `${pad(Math.floor(v), 6)}.${pad(Math.round((v % 1) * 1000) % 1000, 3)}*kWh`;
  const powerW = 300 + ((n * 37) % 2500);
  const body =
    '/ISK5\\2M550T-1012\r\n\r\n' +
    '1-3:0.2.8(50)\r\n' +
    `0-0:1.0.0(${meterTime(P1_LOG_T0_MS + n * 1000)})\r\n` +
    '0-0:96.1.1(4530303434303037313331363530363137)\r\n' +
    `1-0:1.8.1(${kwh(1000 + n / 7200)})\r\n` +
    `1-0:1.8.2(${kwh(2000 + n / 9000)})\r\n` +
    '1-0:2.8.1(000010.000*kWh)\r\n' +
    '1-0:2.8.2(000020.000*kWh)\r\n' +
    '0-0:96.14.0(0002)\r\n' +
    `1-0:1.7.0(${pad(Math.floor(powerW / 1000), 2)}.${pad(powerW % 1000, 3)}*kW)\r\n` +
    '1-0:2.7.0(00.000*kW)\r\n' +
    `1-0:32.7.0(${(229 + (n % 30) / 10).toFixed(1)}*V)\r\n` +
    `1-0:31.7.0(${pad(Math.floor(powerW / 230), 3)}*A)\r\n` +
    '!';
  return `${body}${crc16arc(body).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
}

/** `count` telegrams one after another, as a P1 logger writes them. */
export function p1Log(count: number, from = 0): string {
  const parts: string[] = [];
  for (let n = from; n < from + count; n++) parts.push(p1Telegram(n));
  return parts.join('');
}
