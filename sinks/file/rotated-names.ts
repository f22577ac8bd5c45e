/**
 * The names of a file sink's rotated files: `<file>.<UTC yyyymmddThhmmss.mmm>Z.<nnn>[.gz]`, e.g.
 * `audit.jsonl.20260305T103000.123Z.001.gz`. They sort by name in the order they were written,
 * which is how the trail is read back (`listRotated`) and how retention picks the oldest.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const STAMP = /^(\d{8}T\d{6}\.\d{3}Z)\.(\d{3})(\.gz)?$/;

/**
 * The rotated files of `path` (absolute paths), oldest first. The current file is not included;
 * read it last to get the whole trail.
 */
export function listRotated(path: string): string[] {
  const file = resolve(path);
  const dir = dirname(file);
  const prefix = basename(file) + '.';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(prefix) && STAMP.test(name.slice(prefix.length)))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * Names for the next rotated files of `path` (without `.gz`): each call gives a new name, later in
 * sort order than every earlier one and than every rotated file on disk, even when the clock
 * steps back or several rotations fall in one millisecond.
 */
export function rotatedNamer(path: string): (time: number) => string {
  let floor = 0;
  let index = 0;
  const last = listRotated(path).pop();
  if (last) {
    const m = STAMP.exec(basename(last).slice(basename(path).length + 1))!;
    floor = parseStamp(m[1]!);
    index = Number(m[2]);
  }
  return (time) => {
    if (time > floor) {
      floor = time;
      index = 1;
    } else if (++index > 999) {
      floor++;
      index = 1;
    }
    return `${path}.${formatStamp(floor)}.${String(index).padStart(3, '0')}`;
  };
}

function formatStamp(t: number): string {
  const iso = new Date(t).toISOString(); // 2026-03-05T10:30:00.123Z
  return iso.slice(0, 19).replace(/[-:]/g, '') + iso.slice(19);
}

function parseStamp(stamp: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/.exec(stamp)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
}
