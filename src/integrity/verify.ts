/**
 * The verifier: reads a chained trail (rotated files in order, then the current file; plain or
 * gzip) and says whether it is intact, and where and how it is not — naming file, line and
 * sequence numbers: a modified, inserted or forged record, deleted records (a sequence gap),
 * reordering, a truncated tail, a torn last line, a rotated file missing or replaced, a checkpoint
 * that does not match the file or whose signature fails; restarts are reported as information.
 *
 * With the chain key every record is checked (HMAC). With only the public key, checkpoints are:
 * their signature and the SHA-256 of the file before them, so a change is located between two
 * checkpoints. It streams: memory is bounded by the window of recent records (WINDOW) and the
 * longest line, whatever the size of the trail. `audit-router verify` and the report use it.
 */
import type { KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { chainValue, GENESIS, parseRecord, type ParsedRecord } from './chain';
import { checkSignature, parseControl, type CheckpointFields, type OpenFields } from './checkpoint';
import { firstLine, readLines, trailsFrom, type LineInfo, type Trail } from './trail';

/** Recent records kept to tell reordering from deletion, and a forged record from a modified one. */
const WINDOW = 4096;
/** Findings kept per trail; beyond that they are only counted. */
const MAX_FINDINGS = 1000;
/** A live writer checkpoints every interval: a checkpoint older than twice that, plus this, is overdue. */
const LIVE_GRACE_MS = 5_000;

export type Severity = 'error' | 'warning' | 'info';

export type FindingKind =
  | 'modified'
  | 'inserted'
  | 'forged'
  | 'deleted'
  | 'reordered'
  | 'duplicate'
  | 'malformed'
  | 'truncated'
  | 'file_missing'
  | 'file_replaced'
  | 'bad_checkpoint'
  | 'bad_signature'
  | 'unsigned_checkpoint'
  | 'restart'
  | 'unclean_restart'
  | 'trail_start'
  | 'live_tail'
  | 'unverified_tail';

export interface Finding {
  severity: Severity;
  kind: FindingKind;
  /** The file (as given or found) the finding is in. */
  file: string;
  /** 1-based line numbers in that file. */
  line?: number;
  lineEnd?: number;
  /** Sequence numbers concerned. */
  seq?: number;
  seqEnd?: number;
  message: string;
}

export interface FileReport {
  file: string;
  /** Decompressed bytes. */
  bytes: number;
  lines: number;
  records: number;
  events: number;
  checkpoints: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

export interface CheckpointInfo {
  file: string;
  line: number;
  seq: number;
  reason: string;
  time: string;
}

export interface TrailReport {
  /** The trail's base path (the sink's file). */
  base: string;
  intact: boolean;
  files: FileReport[];
  records: number;
  events: number;
  checkpoints: number;
  restarts: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The last chain value (hex): an anchor to compare with a copy shipped elsewhere. */
  lastChain: string | null;
  lastCheckpoint: CheckpointInfo | null;
  findings: Finding[];
  /** Findings beyond MAX_FINDINGS, counted only. */
  findingsOmitted: number;
}

export interface VerifyReport {
  intact: boolean;
  /** What was checked: the HMAC chain (with the key), checkpoint signatures (with the public key). */
  checked: { chain: boolean; signatures: boolean };
  trails: TrailReport[];
  /** Paths given that hold no chained record (not trails): listed, not verified. */
  skipped: string[];
}

export interface VerifyOptions {
  /** The chain key: every record is checked. */
  key?: Buffer | null;
  /** The Ed25519 public key: every checkpoint's signature is checked (and required). */
  publicKey?: KeyObject | null;
  /** The trail is still being written: records after a recent checkpoint are not a truncation. */
  live?: boolean;
  /** For `live`: the current time (ms). */
  now?: number;
  /** Called as bytes are read: (read so far, total of all files), on the files' on-disk sizes. */
  onProgress?: (read: number, total: number) => void;
}

/** Verifies the trails found in `paths` (files and directories). Throws for a path that cannot be read. */
export async function verifyPaths(paths: string[], options: VerifyOptions): Promise<VerifyReport> {
  const found = await trailsFrom(paths, async (f) => {
    const line = await firstLine(f).catch(() => null);
    return line ? (parseRecord(line)?.seq ?? null) : null;
  });
  const trails: Trail[] = [];
  const skipped: string[] = [];
  for (const trail of found) {
    let chained = false;
    for (const f of trail.files) {
      const line = await firstLine(f).catch(() => null);
      if (line && parseRecord(line)) {
        chained = true;
        break;
      }
    }
    if (chained) trails.push(trail);
    else skipped.push(...trail.files);
  }
  const total = trails.reduce((n, t) => n + t.files.reduce((m, f) => m + statSync(f).size, 0), 0);
  let read = 0;
  const progress = options.onProgress
    ? (bytes: number): void => {
        read += bytes;
        options.onProgress!(read, total);
      }
    : undefined;
  const reports: TrailReport[] = [];
  for (const trail of trails) reports.push(await verifyTrail(trail, options, progress));
  return {
    intact: reports.every((r) => r.intact),
    checked: { chain: Boolean(options.key), signatures: Boolean(options.publicKey) },
    trails: reports,
    skipped,
  };
}

/** Verifies one trail: its files in rotation order. */
export async function verifyTrail(trail: Trail, options: VerifyOptions, onRead?: (bytes: number) => void): Promise<TrailReport> {
  const verifier = new TrailVerifier(trail, options);
  for (let i = 0; i < trail.files.length; i++) {
    const file = trail.files[i]!;
    verifier.beginFile(file, i === trail.files.length - 1);
    try {
      const summary = await readLines(file, verifier, onRead);
      verifier.endFile(summary.bytes, summary.lines);
    } catch (err) {
      // A damaged .gz (or one being written by a rotation right now): say so, go on with the next file.
      verifier.unreadable((err as NodeJS.ErrnoException).code ?? (err as Error).name);
    }
  }
  return verifier.finish();
}

interface Seen {
  chain: Buffer;
  /** The chain value its body gives with the record before it, when that differs from `chain`. */
  expected: Buffer | null;
  file: string;
  line: number;
  /** true: verified; false: failed its check (a suspect); null: not checkable (yet). */
  ok: boolean | null;
}

interface Gap {
  from: number;
  to: number;
  file: string;
  line: number;
}

interface Deferred {
  seq: number;
  body: Buffer;
  chain: Buffer;
  file: string;
  line: number;
}

interface FileState extends FileReport {
  /** The chain value the file's open record says the previous file ended with (null: the first file). */
  prevFileChain: Buffer | null;
  /** A checkpoint of this file no longer matched its hash: later ones are not reported again. */
  hashBroken: boolean;
  /** Line of the last checkpoint of this file whose hash matched (0: none yet). */
  lastGoodCheckpointLine: number;
  /** Errors found in this file since that checkpoint. */
  errorsSince: number;
  isNewest: boolean;
}

class TrailVerifier {
  private readonly findings: Finding[] = [];
  private omitted = 0;
  private readonly files: FileReport[] = [];
  private file!: FileState;
  private readonly window = new Map<number, Seen>();
  private maxSeq = -1;
  private maxSeqAt: { file: string; line: number } | null = null;
  private gaps: Gap[] = [];
  private readonly deferred = new Map<number, Deferred>();
  private records = 0;
  private events = 0;
  private checkpoints = 0;
  private restarts = 0;
  private firstSeq: number | null = null;
  /** The last record read (in trail order). */
  private last: { seq: number; chain: Buffer; kind: string; reason?: string; file: string; line: number } | null = null;
  private lastCheckpoint: (CheckpointInfo & { intervalMs: number }) | null = null;
  private reorderRun: Finding | null = null;
  private recordsInFile = 0;
  private readonly key: Buffer | null;
  private readonly publicKey: KeyObject | null;

  constructor(
    private readonly trail: Trail,
    private readonly options: VerifyOptions,
  ) {
    this.key = options.key ?? null;
    this.publicKey = options.publicKey ?? null;
  }

  beginFile(file: string, isNewest: boolean): void {
    this.file = {
      file,
      bytes: 0,
      lines: 0,
      records: 0,
      events: 0,
      checkpoints: 0,
      firstSeq: null,
      lastSeq: null,
      prevFileChain: null,
      hashBroken: false,
      lastGoodCheckpointLine: 0,
      errorsSince: 0,
      isNewest,
    };
    this.recordsInFile = 0;
  }

  endFile(bytes: number, lines: number): void {
    const { prevFileChain: _p, hashBroken: _h, lastGoodCheckpointLine: _l, errorsSince: _e, isNewest: _n, ...report } = this.file;
    report.bytes = bytes;
    report.lines = lines;
    this.files.push(report);
    this.reorderRun = null;
  }

  /** The current file could not be read to its end (bad gzip data, an I/O error). */
  unreadable(code: string): void {
    const file = this.file.file;
    this.add({
      severity: 'error',
      kind: 'truncated',
      file,
      message: `${basename(file)} cannot be read to its end (${code}): ${file.endsWith('.gz') ? 'its gzip data is damaged or cut off' : 'a read error'}; the records after what was read are not checked`,
    });
    this.endFile(0, this.file.records);
  }

  /** LineVisitor: one line of the current file. */
  line(bytes: Buffer | null, info: LineInfo): void {
    const file = this.file.file;
    if (!info.terminated) {
      this.add({
        severity: this.options.live && this.file.isNewest ? 'warning' : 'error',
        kind: 'truncated',
        file,
        line: info.line,
        message: `line ${info.line} is cut off: the file ends in the middle of a record (a torn write, or the file was truncated)`,
      });
      return;
    }
    if (bytes === null) {
      this.add({ severity: 'error', kind: 'malformed', file, line: info.line, message: `line ${info.line} is longer than any record audit-router writes` });
      return;
    }
    const record = parseRecord(bytes);
    if (!record) {
      this.add({
        severity: 'error',
        kind: 'malformed',
        file,
        line: info.line,
        message: `line ${info.line} is not a chained record (no valid _seq/_chain fields): inserted, or damaged`,
      });
      return;
    }
    this.record(record, bytes, info);
  }

  private record(record: ParsedRecord, bytes: Buffer, info: LineInfo): void {
    const file = this.file.file;
    const seq = record.seq;
    const control = record.kind === 'event' ? null : parseControl(bytes);
    if (record.kind !== 'event' && control === null) {
      this.add({ severity: 'error', kind: 'malformed', file, line: info.line, seq, message: `line ${info.line} (seq ${seq}): an audit-router record without its documented fields` });
    }
    const open = control?.audit_router === 'open' ? control : null;
    if (this.recordsInFile === 0) this.startOfFile(record, open, info.line);
    this.recordsInFile++;
    this.records++;
    this.file.records++;
    if (record.kind === 'event') {
      this.events++;
      this.file.events++;
    }
    this.file.firstSeq ??= seq;
    this.file.lastSeq = seq;
    this.firstSeq ??= seq;

    // Position in the sequence.
    const duplicate = this.window.get(seq);
    if (duplicate && seq <= this.maxSeq) {
      this.duplicateSeq(record, duplicate, info.line);
      return;
    }
    if (seq > this.maxSeq + 1 && this.maxSeq >= 0) {
      this.gaps.push({ from: this.maxSeq + 1, to: seq - 1, file, line: info.line });
      if (this.gaps.length > 64) this.finishGap(this.gaps.shift()!);
    } else if (seq <= this.maxSeq) {
      this.outOfOrder(seq, info.line);
    } else this.reorderRun = null;
    if (seq > this.maxSeq) {
      this.maxSeq = seq;
      this.maxSeqAt = { file, line: info.line };
    }

    // The chain.
    const seen: Seen = { chain: Buffer.from(record.chain), expected: null, file, line: info.line, ok: null };
    const declared = open && !this.window.has(seq - 1) ? Buffer.from(open.prev_chain, 'hex') : null;
    const prev = this.window.get(seq - 1);
    if (this.key === null) seen.ok = true;
    else if (prev || declared) this.link(record.body, seen, prev ?? null, declared, seq);
    else this.deferred.set(seq - 1, { seq, body: Buffer.from(record.body), chain: seen.chain, file, line: info.line });
    this.remember(seq, seen);
    this.settleGaps(seq);
    const waiting = this.deferred.get(seq);
    if (waiting && this.key) {
      this.deferred.delete(seq);
      const s = this.window.get(waiting.seq);
      if (s) this.link(waiting.body, s, seen, null, waiting.seq);
    }

    if (control?.audit_router === 'checkpoint') this.checkpoint(control, record, info);
    else if (open) this.noteOpen(open, info.line, seq);
    this.last = { seq, chain: seen.chain, kind: record.kind, reason: control?.reason, file, line: info.line };
  }

  /** Checks one record's chain value against the record before it (or a declared previous chain value). */
  private link(body: Buffer, seen: Seen, prev: Seen | null, declared: Buffer | null, seq: number): void {
    const key = this.key!;
    const base = prev ? prev.chain : declared!;
    const expected = chainValue(key, base, body);
    if (expected.equals(seen.chain)) seen.ok = true;
    else if (prev?.expected && chainValue(key, prev.expected, body).equals(seen.chain)) seen.ok = true;
    else {
      seen.ok = false;
      seen.expected = expected;
    }
    if (prev && prev.ok === false && seen.ok) {
      // The record(s) before fail their own check, but their chain value leads to this one: they
      // are in place, with their content (or content and chain field) changed.
      let from = seq - 1;
      while (this.window.get(from - 1)?.ok === false) from--;
      const first = this.window.get(from)!;
      for (let s = from; s < seq; s++) this.window.get(s)!.ok = null; // reported
      const one = from === seq - 1;
      this.add({
        severity: 'error',
        kind: 'modified',
        file: first.file,
        line: first.line,
        ...(one ? {} : { lineEnd: prev.line }),
        seq: from,
        ...(one ? {} : { seqEnd: seq - 1 }),
        message: one
          ? `record at line ${first.line} (seq ${from}) was modified: its content does not match its chain value`
          : `records at lines ${first.line}–${prev.line} (seq ${from}–${seq - 1}) were modified (one record's content and chain value replaced changes the check of the next one too)`,
      });
    }
  }

  private remember(seq: number, seen: Seen): void {
    this.window.set(seq, seen);
    if (this.window.size <= WINDOW) return;
    const oldest = this.window.keys().next().value as number;
    const evicted = this.window.get(oldest)!;
    this.window.delete(oldest);
    this.unresolved(oldest, evicted);
    const deferred = this.deferred.get(oldest - 1);
    if (deferred) this.deferred.delete(oldest - 1);
  }

  /** A record that failed its check and that nothing later confirmed. */
  private unresolved(seq: number, seen: Seen): void {
    if (seen.ok !== false) return;
    seen.ok = null;
    this.add({
      severity: 'error',
      kind: 'forged',
      file: seen.file,
      line: seen.line,
      seq,
      message: `record at line ${seen.line} (seq ${seq}) fails its chain check and no later record confirms it: forged, or altered`,
    });
  }

  private duplicateSeq(record: ParsedRecord, first: Seen, line: number): void {
    const file = this.file.file;
    const seq = record.seq;
    const prev = this.window.get(seq - 1);
    let ok: boolean | null = this.key === null ? null : false;
    if (this.key && prev) ok = chainValue(this.key, prev.chain, record.body).equals(record.chain);
    if (ok && first.ok === false) {
      // The first one with this sequence number was the forgery: the genuine record follows.
      first.ok = null;
      this.add({ severity: 'error', kind: 'inserted', file: first.file, line: first.line, seq, message: `line ${first.line} is an inserted record: it claims seq ${seq}, which the genuine record at line ${line} has` });
      this.window.set(seq, { chain: Buffer.from(record.chain), expected: null, file, line, ok: true });
      this.last = { seq, chain: Buffer.from(record.chain), kind: record.kind, file, line };
      return;
    }
    if (ok === false) {
      this.add({ severity: 'error', kind: 'inserted', file, line, seq, message: `line ${line} is an inserted record: it repeats seq ${seq} (line ${first.line}) and fails its chain check` });
      return;
    }
    this.add({
      severity: 'error',
      kind: 'duplicate',
      file,
      line,
      seq,
      message: `line ${line} repeats the record with seq ${seq} (first at ${basename(first.file)} line ${first.line}): a copied record`,
    });
  }

  private outOfOrder(seq: number, line: number): void {
    const file = this.file.file;
    const run = this.reorderRun;
    if (run && run.file === file && run.lineEnd === line - 1) {
      run.lineEnd = line;
      run.seq = Math.min(run.seq!, seq);
      run.seqEnd = Math.max(run.seqEnd!, seq);
      run.message = `lines ${run.line}–${line} (seq ${run.seq}–${run.seqEnd}) are out of order: they come after seq ${this.maxSeq} (line ${this.maxSeqAt?.line})`;
      return;
    }
    const finding: Finding = {
      severity: 'error',
      kind: 'reordered',
      file,
      line,
      lineEnd: line,
      seq,
      seqEnd: seq,
      message: `line ${line} (seq ${seq}) is out of order: it comes after seq ${this.maxSeq} (line ${this.maxSeqAt?.line})`,
    };
    this.reorderRun = finding;
    this.add(finding);
  }

  /** A record with `seq` arrived: it may fill a pending gap (reordering, not deletion). */
  private settleGaps(seq: number): void {
    if (this.gaps.length === 0) return;
    const next: Gap[] = [];
    for (const gap of this.gaps) {
      if (seq >= gap.from && seq <= gap.to) {
        if (gap.from < seq) next.push({ ...gap, to: seq - 1 });
        if (seq < gap.to) next.push({ ...gap, from: seq + 1 });
      } else if (this.maxSeq - gap.to > WINDOW) this.finishGap(gap);
      else next.push(gap);
    }
    this.gaps = next;
  }

  private finishGap(gap: Gap): void {
    const n = gap.to - gap.from + 1;
    this.add({
      severity: 'error',
      kind: 'deleted',
      file: gap.file,
      line: gap.line,
      seq: gap.from,
      seqEnd: gap.to,
      message:
        n === 1
          ? `1 record is missing: seq ${gap.from}, before line ${gap.line}`
          : `${n} records are missing: seq ${gap.from}–${gap.to}, before line ${gap.line}`,
    });
  }

  /** The first record of a file: how it joins the file before it (or starts the trail). */
  private startOfFile(record: ParsedRecord, open: OpenFields | null, line: number): void {
    const file = this.file.file;
    const name = basename(file);
    if (open) this.file.prevFileChain = open.prev_seq === 0 ? null : Buffer.from(open.prev_chain, 'hex');
    const last = this.last;
    if (last === null) {
      // The first file of the trail.
      if (open && open.prev_seq === 0) {
        this.window.set(0, { chain: GENESIS, expected: null, file, line: 0, ok: true });
        this.maxSeq = 0;
        return;
      }
      if (open) {
        this.add({
          severity: 'info',
          kind: 'trail_start',
          file,
          line,
          seq: record.seq,
          message: `the trail starts at seq ${record.seq} in ${name}: the files before it (up to ${open.prev_file ?? 'unknown'}) are not here (removed by retention, or deleted)`,
        });
        this.maxSeq = open.prev_seq;
        return;
      }
      this.add({
        severity: 'warning',
        kind: 'trail_start',
        file,
        line,
        seq: record.seq,
        message: `${name} does not start with an open record: the trail's first record (seq ${record.seq}) cannot be checked`,
      });
      this.maxSeq = record.seq - 1; // its record before is not here: it is taken as it is
      return;
    }
    if (!open) return; // continuity is checked record by record
    const prevName = open.prev_file ?? '(unnamed)';
    const declared = Buffer.from(open.prev_chain, 'hex');
    if (open.prev_seq === last.seq && declared.equals(last.chain)) return;
    if (open.prev_seq > last.seq && record.seq > last.seq && open.prev_file === basename(last.file)) {
      this.add({
        severity: 'error',
        kind: 'truncated',
        file: last.file,
        line: last.line,
        seq: last.seq + 1,
        seqEnd: open.prev_seq,
        message: `the end of ${basename(last.file)} was cut off after line ${last.line} (seq ${last.seq}): ${name} continues from it at seq ${open.prev_seq}; seq ${last.seq + 1}–${open.prev_seq} are missing`,
      });
    } else if (open.prev_seq > last.seq && record.seq > last.seq) {
      this.add({
        severity: 'error',
        kind: 'file_missing',
        file,
        line,
        seq: last.seq + 1,
        seqEnd: open.prev_seq,
        message: `a rotated file is missing before ${name}: it continues from ${prevName} (seq ${open.prev_seq}), but the trail so far ends at seq ${last.seq} (${basename(last.file)}); seq ${last.seq + 1}–${open.prev_seq} are not here`,
      });
    } else {
      this.add({
        severity: 'error',
        kind: 'file_replaced',
        file,
        line,
        seq: record.seq,
        message: `${name} does not continue the trail: it follows ${open.prev_file === null ? 'nothing (a new chain)' : `${prevName} at seq ${open.prev_seq}`}, but the trail so far ends at seq ${last.seq} (${basename(last.file)}): an older or foreign file in its place`,
      });
    }
    // Resynchronise on what this file declares, so its own records are checked and not all reported.
    this.resync(open.prev_seq, declared, file);
  }

  private resync(seq: number, chain: Buffer, file: string): void {
    for (const [s, seen] of this.window) this.unresolved(s, seen);
    this.window.clear();
    this.deferred.clear();
    for (const gap of this.gaps) this.finishGap(gap);
    this.gaps = [];
    this.window.set(seq, { chain, expected: null, file, line: 0, ok: true });
    this.maxSeq = seq;
  }

  /** Restarts and reopens are information (an unclean restart a warning); start and rotation are the normal course. */
  private noteOpen(open: OpenFields, line: number, seq: number): void {
    const file = this.file.file;
    if (open.reason === 'start' || open.reason === 'rotation') return;
    if (open.reason === 'restart') {
      this.restarts++;
      this.add({ severity: 'info', kind: 'restart', file, line, seq, message: `audit-router restarted at line ${line} (seq ${seq}), at ${open.time}` });
      if (open.clean === false) {
        const cp = this.lastCheckpoint;
        this.add({
          severity: 'warning',
          kind: 'unclean_restart',
          file,
          line,
          seq,
          message: `the run before the restart at line ${line} did not end with a shutdown checkpoint: records written after ${cp ? `its last checkpoint (seq ${cp.seq}, ${basename(cp.file)} line ${cp.line})` : 'the start'} may be missing`,
        });
      }
    } else {
      this.add({ severity: 'info', kind: 'restart', file, line, seq, message: `the file was reopened at line ${line} (seq ${seq}, ${open.reason})` });
    }
  }

  private checkpoint(cp: CheckpointFields, record: ParsedRecord, info: LineInfo): void {
    const file = this.file.file;
    const line = info.line;
    this.checkpoints++;
    this.file.checkpoints++;
    const wrong: string[] = [];
    if (cp.last_seq !== record.seq - 1) wrong.push(`last_seq ${cp.last_seq} (expected ${record.seq - 1})`);
    if (cp.first_seq !== this.file.firstSeq) wrong.push(`first_seq ${cp.first_seq} (the file starts at ${this.file.firstSeq})`);
    if (cp.count !== this.file.events) wrong.push(`count ${cp.count} (the file has ${this.file.events} events before it)`);
    const prev = this.window.get(record.seq - 1);
    if (prev && cp.chain !== prev.chain.toString('hex')) wrong.push('chain (not the chain value of the record before it)');
    const prevFile = this.file.prevFileChain ? this.file.prevFileChain.toString('hex') : null;
    if (this.recordsInFile > 0 && cp.prev_file_chain !== prevFile) wrong.push('prev_file_chain (not what the file opened with)');
    const sha = info.hashBefore.copy().digest('hex');
    const shaOk = sha === cp.file_sha256;
    if (!shaOk && !this.file.hashBroken) {
      this.file.hashBroken = true;
      const since = this.file.lastGoodCheckpointLine;
      wrong.push(`file_sha256 (the file's content before it differs${since > 0 ? `: changed between line ${since} and line ${line}` : `: changed before line ${line}`})`);
    }
    if (wrong.length > 0) {
      // With the key, damage already located record by record explains the mismatch: said, not counted twice.
      const explained = this.key !== null && this.damageInFile();
      this.add({
        severity: explained ? 'info' : 'error',
        kind: 'bad_checkpoint',
        file,
        line,
        seq: record.seq,
        message: `checkpoint at line ${line} (seq ${record.seq}) does not match the file: ${wrong.join('; ')}${explained ? ' (follows from the changes reported before it)' : ''}`,
      });
    }
    if (shaOk) {
      this.file.lastGoodCheckpointLine = line;
      this.file.errorsSince = 0;
    }
    if (this.publicKey) {
      if (!record.signature) {
        this.add({ severity: 'error', kind: 'unsigned_checkpoint', file, line, seq: record.seq, message: `checkpoint at line ${line} (seq ${record.seq}) has no signature` });
      } else if (!checkSignature(this.publicKey, record.signed, record.signature)) {
        this.add({
          severity: 'error',
          kind: 'bad_signature',
          file,
          line,
          seq: record.seq,
          message: `checkpoint at line ${line} (seq ${record.seq}): its signature does not verify with the public key (re-signed with another key, or altered)`,
        });
      }
    }
    this.lastCheckpoint = { file, line, seq: record.seq, reason: cp.reason, time: cp.time, intervalMs: cp.interval_ms };
  }

  /** Whether a change in the current file was found (or is pending: a gap, a record failing its check) since its last good checkpoint. */
  private damageInFile(): boolean {
    const file = this.file.file;
    if (this.file.errorsSince > 0 || this.gaps.some((g) => g.file === file)) return true;
    for (const seen of this.window.values()) if (seen.ok === false && seen.file === file) return true;
    for (const d of this.deferred.values()) if (d.file === file) return true;
    return false;
  }

  private add(finding: Finding): void {
    if (finding.severity === 'error' && this.file && finding.file === this.file.file) this.file.errorsSince++;
    if (this.findings.length >= MAX_FINDINGS) {
      this.omitted++;
      return;
    }
    this.findings.push(finding);
  }

  finish(): TrailReport {
    for (const gap of this.gaps) this.finishGap(gap);
    this.gaps = [];
    for (const [seq, seen] of this.window) this.unresolved(seq, seen);
    this.tail();
    const order: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
    const fileIndex = new Map(this.trail.files.map((f, i) => [f, i]));
    this.findings.sort(
      (a, b) => (fileIndex.get(a.file) ?? 0) - (fileIndex.get(b.file) ?? 0) || (a.line ?? 0) - (b.line ?? 0) || order[a.severity] - order[b.severity],
    );
    const errors = this.findings.some((f) => f.severity === 'error') || this.omitted > 0;
    const cp = this.lastCheckpoint;
    return {
      base: this.trail.base,
      intact: !errors,
      files: this.files,
      records: this.records,
      events: this.events,
      checkpoints: this.checkpoints,
      restarts: this.restarts,
      firstSeq: this.firstSeq,
      lastSeq: this.last?.seq ?? null,
      lastChain: this.last ? this.last.chain.toString('hex') : null,
      lastCheckpoint: cp ? { file: cp.file, line: cp.line, seq: cp.seq, reason: cp.reason, time: cp.time } : null,
      findings: this.findings,
      findingsOmitted: this.omitted,
    };
  }

  /** The end of the trail: a stopped writer's last record is its shutdown checkpoint. */
  private tail(): void {
    const last = this.last;
    if (last === null) {
      const file = this.trail.files.at(-1) ?? this.trail.base;
      this.add({ severity: 'error', kind: 'truncated', file, message: 'the trail holds no chained record' });
      return;
    }
    if (last.kind === 'checkpoint' && last.reason === 'shutdown') return;
    const cp = this.lastCheckpoint;
    const after = cp ? last.seq - cp.seq : last.seq;
    const where = cp ? `the last checkpoint (seq ${cp.seq}, ${basename(cp.file)} line ${cp.line}, ${cp.time})` : 'any checkpoint';
    if (this.options.live && cp) {
      const now = this.options.now ?? Date.now();
      const due = Date.parse(cp.time) + 2 * cp.intervalMs + LIVE_GRACE_MS;
      if (Number.isFinite(due) && now <= due) {
        this.add({
          severity: this.key ? 'info' : 'warning',
          kind: 'live_tail',
          file: last.file,
          line: last.line,
          seq: last.seq,
          message: `${after} record(s) after ${where}: still being written, not yet covered by a checkpoint${this.key ? '' : ' (and, without --key, not checked)'}`,
        });
        return;
      }
    }
    // The trail ends after a checkpoint that is not a shutdown one, or after records no checkpoint covers.
    const message =
      last.kind === 'checkpoint' && !this.options.live
        ? `the trail ends with a "${last.reason}" checkpoint at line ${last.line} (seq ${last.seq}), not a shutdown one: audit-router closed the file without stopping (after a write error: see its log) and wrote nothing after it, or records after it were cut off`
        : this.options.live
          ? `the trail ends at line ${last.line} (seq ${last.seq}) and no checkpoint was written for over twice the interval after ${where}: records after line ${last.line} were cut off, or audit-router stopped without closing the file`
          : `the trail ends at line ${last.line} (seq ${last.seq}) without a shutdown checkpoint, ${after} record(s) after ${where}: records after it were cut off, audit-router stopped without closing the file, or it is still running (then use --live)`;
    this.add({ severity: 'error', kind: 'truncated', file: last.file, line: last.line, seq: last.seq, message });
  }
}
