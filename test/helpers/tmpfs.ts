/**
 * A real tmpfs of a given size (the test command runs as root: scripts/test.sh) for a full disk
 * under the outbox: mounted on a fresh temporary folder, unmounted and removed in every outcome.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  readonly dir: string;
  /** Unmount (lazily if still busy) and remove the folder. Safe to call twice. */
  unmount(): void;
}

export function mountTmpfs(sizeBytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs on ${dir} (the tests run as root): ${(err as Error).message}`);
  }
  let mounted = true;
  return {
    dir,
    unmount() {
      if (!mounted) return;
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Write a file of zeros until the filesystem says ENOSPC. Returns its size. */
export function fillDisk(path: string): number {
  const block = Buffer.alloc(4096);
  const fd = openSync(path, 'w');
  let size = 0;
  try {
    for (;;) {
      try {
        size += writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return size;
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}
