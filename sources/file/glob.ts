/**
 * Path patterns for the `file` source: `*`, `?` and `[...]` within one path segment, `**` for any
 * number of directories (the kubelet pod logs: see README.md). Node 20 has no fs.glob, and a
 * follower only needs this much: expand a pattern to the files that exist now, and test a path
 * against `exclude` patterns.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

const MAGIC = /[*?[]/;

export function hasMagic(pattern: string): boolean {
  return MAGIC.test(pattern);
}

function segmentRegex(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = segment.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** A compiled pattern: absolute, split into segments. */
export class PathPattern {
  readonly pattern: string;
  private readonly segments: (string | RegExp | '**')[];
  /** The longest leading part without wildcards: the directory to watch. */
  readonly base: string;

  constructor(pattern: string, baseDir: string) {
    this.pattern = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
    const parts = this.pattern.split(sep).filter((p, i) => p !== '' || i === 0);
    this.segments = parts.map((p) => (p === '**' ? '**' : hasMagic(p) ? segmentRegex(p) : p));
    const fixed: string[] = [];
    for (const s of this.segments) {
      if (typeof s !== 'string' || s === '**') break;
      fixed.push(s);
    }
    this.base = fixed.length <= 1 ? sep : fixed.join(sep);
  }

  /** Whether `path` (absolute) matches. */
  matches(path: string): boolean {
    const parts = path.split(sep).filter((p, i) => p !== '' || i === 0);
    const match = (si: number, pi: number): boolean => {
      if (si === this.segments.length) return pi === parts.length;
      const s = this.segments[si]!;
      if (s === '**') {
        for (let k = pi; k <= parts.length; k++) if (match(si + 1, k)) return true;
        return false;
      }
      if (pi >= parts.length) return false;
      return (typeof s === 'string' ? s === parts[pi] : s.test(parts[pi]!)) && match(si + 1, pi + 1);
    };
    return match(0, 0);
  }

  /** The regular files that match now (sorted, for a stable order). */
  expand(): string[] {
    const out: string[] = [];
    const walk = (dir: string, si: number): void => {
      if (si === this.segments.length) {
        try {
          if (statSync(dir).isFile()) out.push(dir);
        } catch {
          // gone meanwhile
        }
        return;
      }
      const s = this.segments[si]!;
      if (typeof s === 'string' && s !== '**') {
        walk(si === 0 && s === '' ? sep : join(dir, s), si + 1);
        return;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      if (s === '**') {
        walk(dir, si + 1);
        for (const name of names) {
          const child = join(dir, name);
          try {
            if (statSync(child).isDirectory()) walk(child, si);
          } catch {
            // gone meanwhile
          }
        }
        return;
      }
      for (const name of names.sort()) if (s.test(name)) walk(join(dir, name), si + 1);
    };
    walk('', 0);
    return [...new Set(out)].sort();
  }
}
