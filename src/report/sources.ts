/**
 * What to read, in which order: the command line's files, directories and `-` (stdin) become a
 * list of sources in trail order.
 *
 * The file sink writes `<base>` and rotates it to `<base>.<UTC yyyymmddThhmmss.mmm>Z.<nnn>[.gz]`
 * (names that sort in the order they were written), and keeps `<base>.history`, the list of
 * rotated files retention still keeps (the file sink's index, absolute paths, oldest first).
 * So a trail is: its rotated files by name, then `<base>`. Naming `<base>` (or a directory) reads
 * the whole trail; naming rotated files reads just those. Every file is read once, whatever
 * names it. The history index is read, not reported as data: rotated files it lists that are gone
 * become a note in the report (retention, or a file removed by hand).
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { ConfigError } from '../util/errors';

const ROTATED_RE = /^(.+)\.(\d{8}T\d{6}\.\d{3}Z)\.(\d{3})(\.gz)?$/;
const HISTORY_SUFFIX = '.history';

export interface Source {
  /** As given or found ("-" for stdin). */
  path: string;
  /** Absolute path, or null for stdin. */
  file: string | null;
  /** Bytes on disk (0 for stdin): the progress bar's total. */
  size: number;
}

export interface SourcePlan {
  sources: Source[];
  notes: string[];
}

interface TrailGroup {
  base: string;
  rotated: Set<string>;
  current: boolean;
}

/** Resolves the arguments into sources in trail order. Throws ConfigError for a path that cannot be read. */
export function planSources(args: readonly string[]): SourcePlan {
  const notes: string[] = [];
  const groups = new Map<string, TrailGroup>();
  const order: Array<{ stdin: true } | { group: TrailGroup }> = [];
  let stdin = false;
  const group = (base: string): TrailGroup => {
    let g = groups.get(base);
    if (g === undefined) {
      g = { base, rotated: new Set(), current: false };
      groups.set(base, g);
      order.push({ group: g });
    }
    return g;
  };
  /** A file named on the command line or found in a directory. */
  const addFile = (full: string, wholeTrail: boolean): void => {
    const name = basename(full);
    const m = ROTATED_RE.exec(name);
    if (m) {
      group(join(dirname(full), m[1]!)).rotated.add(full);
      return;
    }
    if (name.endsWith(HISTORY_SUFFIX) && isHistoryOf(full)) {
      const g = group(full.slice(0, -HISTORY_SUFFIX.length));
      if (wholeTrail) addRotatedOf(g);
      if (exists(g.base)) g.current = true;
      return;
    }
    const g = group(full);
    g.current = true;
    if (wholeTrail) addRotatedOf(g);
  };
  const addRotatedOf = (g: TrailGroup): void => {
    const dir = dirname(g.base);
    const prefix = basename(g.base);
    for (const name of listDir(dir)) {
      const m = ROTATED_RE.exec(name);
      if (m && m[1] === prefix) g.rotated.add(join(dir, name));
    }
  };

  for (const arg of args) {
    if (arg === '-') {
      if (!stdin) order.push({ stdin: true });
      stdin = true;
      continue;
    }
    const full = resolve(arg);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(full);
    } catch (err) {
      throw new ConfigError(`cannot read ${arg}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (st.isDirectory()) {
      for (const name of listDir(full).sort()) {
        const child = join(full, name);
        if (isFile(child)) addFile(child, true);
      }
    } else if (st.isFile() || st.isFIFO()) addFile(full, !ROTATED_RE.test(basename(full)));
    else throw new ConfigError(`cannot read ${arg}: not a file or directory`);
  }

  const sources: Source[] = [];
  const seen = new Set<string>();
  const push = (full: string): void => {
    let real = full;
    try {
      real = realpathSync(full);
    } catch {
      // read errors are reported when the file is read
    }
    if (seen.has(real)) return;
    seen.add(real);
    sources.push({ path: shown(full), file: full, size: sizeOf(full) });
  };
  for (const entry of order) {
    if ('stdin' in entry) {
      sources.push({ path: '-', file: null, size: 0 });
      continue;
    }
    const g = entry.group;
    for (const file of [...g.rotated].sort((a, b) => (basename(a) < basename(b) ? -1 : 1))) push(file);
    if (g.current) push(g.base);
    notes.push(...historyNotes(g));
  }
  return { sources, notes };
}

/** A path as the report shows it: relative to the working directory when under it. */
function shown(full: string): string {
  const rel = relative(process.cwd(), full);
  return rel !== '' && !rel.startsWith('..') ? rel : full;
}

/** Rotated files the history index lists that are no longer there. */
function historyNotes(g: TrailGroup): string[] {
  const history = g.base + HISTORY_SUFFIX;
  let text: string;
  try {
    text = readFileSync(history, 'utf8');
  } catch {
    return [];
  }
  const dir = dirname(g.base);
  let gone = 0;
  for (const line of text.split('\n')) {
    const name = basename(line.trim());
    if (name === '' || !ROTATED_RE.test(name)) continue;
    // Matched by name in the trail's own directory: a trail copied elsewhere keeps working.
    if (!exists(join(dir, name))) gone++;
  }
  return gone === 0 ? [] : [`${basename(history)} lists ${gone} rotated file(s) that are gone (retention removed them, or they were moved)`];
}

/** A `.history` file that is the file sink's index (absolute paths of rotated files), not a trail. */
function isHistoryOf(path: string): boolean {
  try {
    const head = readFileSync(path, 'utf8').slice(0, 4096).split('\n')[0] ?? '';
    return head === '' || ROTATED_RE.test(basename(head.trim()));
  } catch {
    return false;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
