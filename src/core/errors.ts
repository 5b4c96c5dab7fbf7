/**
 * The few error classes callers branch on (by class or `code`, never by message).
 * Messages are one line and say what and where.
 */
export class WattlineError extends Error {
  override name = 'WattlineError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad configuration or command-line input: exit code 2, nothing written. */
export class ConfigError extends WattlineError {
  override name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'config', options);
  }
}

/** Bad user-supplied data (a capture file, a telegram log): names the place. */
export class InputError extends WattlineError {
  override name = 'InputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'input', options);
  }
}

/** A frame that failed its checks. Framers count and drop these; decoders throw them. */
export class FrameError extends WattlineError {
  override name = 'FrameError';
  constructor(
    message: string,
    readonly reason: 'checksum' | 'length' | 'syntax' | 'oversize' | 'truncated' | 'unexpected',
  ) {
    super(message, `frame.${reason}`);
  }
}

/** The link itself: port missing, closed, timed out. `retryable` says whether trying again may help. */
export class TransportError extends WattlineError {
  override name = 'TransportError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, retryable ? 'transport.retryable' : 'transport.fatal', options);
  }
}

/** The device answered, but not usefully (NAK, exception, no telegram in time). */
export class DeviceError extends WattlineError {
  override name = 'DeviceError';
  constructor(
    message: string,
    readonly device: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'device', options);
  }
}

/** A collection job that took longer than its timeout. */
export class TimeoutError extends WattlineError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super(message, 'timeout');
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
