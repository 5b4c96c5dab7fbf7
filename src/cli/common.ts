import type { Command } from 'commander';
import { ConfigError, errorMessage, WattlineError } from '../core/errors.js';
import { createLogger, type Logger, type LogLevel } from '../core/log.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { drivers } from '../devices/index.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: LogLevel;
  logFormat?: 'pretty' | 'json';
  quiet?: boolean;
}

/** The options given before or after the verb, merged (commander keeps them on the root). */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/**
 * The config file found by config/locate.ts, or exit 2 naming every place searched. No verb
 * falls back to the demo: `wattline demo` asks for it (cli/demo.ts). The second argument is
 * left over from when some did, and ignored.
 */
export function load(cmd: Command, _formerlyAllowDemo?: boolean): LoadedConfig {
  return loadConfig({ drivers, path: globals(cmd).config });
}

/** `defaultLevel`: for one-shot verbs whose output is the answer (control verbs log at warn unless asked). */
export function logger(cmd: Command, loaded?: LoadedConfig, defaultLevel?: LogLevel): Logger {
  const g = globals(cmd);
  const cfg = loaded?.config.log;
  const format = g.logFormat ?? (cfg?.format === 'auto' || !cfg ? undefined : cfg.format);
  return createLogger({ level: logLevel(cmd, loaded, defaultLevel), format });
}

/** The command line's level wins over the config's (also after a reload). */
export function logLevel(cmd: Command, loaded?: LoadedConfig, defaultLevel?: LogLevel): LogLevel {
  const g = globals(cmd);
  return g.quiet ? 'warn' : (g.logLevel ?? defaultLevel ?? loaded?.config.log?.level ?? 'info');
}

/** Exit codes: 0 ok, 1 something failed at run time, 2 bad configuration or input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function reportFatal(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`wattline: ${err.message.split('\n').join('\nwattline: ')}\n`);
    return EXIT.usage;
  }
  if (err instanceof WattlineError && err.code === 'input') {
    process.stderr.write(`wattline: ${err.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`wattline: ${errorMessage(err)}\n`);
  if (process.env.WATTLINE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT.failed;
}

/** Wrap an async action so every error ends in one line and the right exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (err) {
      process.exitCode = reportFatal(err);
    }
  };
}
