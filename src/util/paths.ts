/** The package's root directory, from compiled (dist/src) and source (src, in tests) files alike. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'schemas'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(from, '..', '..');
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot(__dirname);
