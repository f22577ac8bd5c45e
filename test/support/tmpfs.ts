/**
 * A real, small tmpfs for disk-full tests (`mount -t tmpfs -o size=…`; CI runs as root). Where
 * mounting is impossible (no root, no mount(8), a sandbox refusing it) `mountTmpfs` says why and
 * the tests skip with that message.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  readonly path: string;
  /** Bytes free now, as the filesystem reports them. */
  free(): number;
  /** Writes a filler file leaving about `leave` bytes free; returns its path (delete it to free space). */
  fill(leave: number, name?: string): string;
  unmount(): void;
}

export function mountTmpfs(sizeBytes: number): Tmpfs | string {
  if (process.platform !== 'linux') return `tmpfs needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'mounting a tmpfs needs root';
  const path = mkdtempSync(join(tmpdir(), 'ar-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', path], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(path, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || `status ${r.status}`).trim()}`;
  }
  const free = (): number => {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  };
  return {
    path,
    free,
    fill(leave: number, name = 'filler.bin'): string {
      const file = join(path, name);
      const fd = openSync(file, 'w');
      const block = Buffer.alloc(4096);
      try {
        while (free() > leave) writeSync(fd, block);
      } finally {
        closeSync(fd);
      }
      return file;
    },
    unmount(): void {
      spawnSync('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
