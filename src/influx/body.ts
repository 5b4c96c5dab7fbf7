/**
 * Response bodies read with a cap: a server (or a proxy in front of it) may answer
 * a write with hundreds of megabytes; only the start says what went wrong.
 */

/** Most bytes of a response body kept; the rest is discarded unread (the connection is closed). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The first `max` bytes of a fetch response body as text. A longer body is cancelled after
 * them: undici closes that connection instead of reading on, so memory stays flat.
 */
export async function readBodyCapped(res: Response, max: number = MAX_BODY_BYTES): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks, size).toString('utf8');
      chunks.push(value.byteLength > max - size ? value.subarray(0, max - size) : value);
      size += Math.min(value.byteLength, max - size);
    }
    await reader.cancel().catch(() => undefined);
    return Buffer.concat(chunks, size).toString('utf8');
  } finally {
    reader.releaseLock();
  }
}
