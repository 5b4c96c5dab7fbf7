/** Small pieces every benchmark uses. */
import type { ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** SIGTERM a benchmark's child process, SIGKILL after 5 s, and wait until it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Run a benchmark file's `run()` when the file is started directly (not through index.ts). */
export function runIfMain(moduleUrl: string, run: () => Promise<unknown>): void {
  if (process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href) {
    run().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  }
}
