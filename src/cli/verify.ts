/**
 * `audit-router verify <file|dir>... [--key <file>] [--public-key <file>] [--json] [--live]`:
 * checks chained trails (docs/integrity.md) and prints what is wrong, where. Exit 0 intact,
 * 1 broken, 2 usage. A progress bar goes to stderr when it is a terminal.
 */
import { existsSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { Command } from 'commander';
import { ConfigError } from '../util/errors';
import { loadPublicKey, loadSecret } from '../integrity/keys';
import { verifyPaths, type Finding, type TrailReport, type VerifyReport } from '../integrity/verify';

export interface VerifyFlags {
  key?: string;
  keyEnv?: string;
  publicKey?: string;
  json?: boolean;
  live?: boolean;
}

/** The `verify` subcommand; `done` receives the exit status. */
export function verifyCommand(done: (code: number) => void): Command {
  return new Command('verify')
    .description('check chained audit files (plain and .gz, in rotation order): exit 0 intact, 1 broken, 2 usage')
    .argument('<path...>', "a chained file sink's files, or directories holding them")
    .option('--key <file>', 'the chain key (a file only its owner can read): every record is checked')
    .option('--key-env <name>', 'or: the environment variable holding the chain key')
    .option('--public-key <file>', 'the Ed25519 public key (PEM): every checkpoint signature is checked')
    .option('--live', 'the trail is still being written: records after a recent checkpoint are not a truncation')
    .option('--json', 'print the report as JSON')
    .exitOverride()
    .action(async (paths: string[], flags: VerifyFlags) => done(await verifyMain(paths, flags)));
}

export async function verifyMain(paths: string[], flags: VerifyFlags): Promise<number> {
  if (!flags.key && !flags.keyEnv && !flags.publicKey) {
    throw new ConfigError('verify needs --key <file> (or --key-env), --public-key <file>, or both');
  }
  if (flags.key && flags.keyEnv) throw new ConfigError('give --key or --key-env, not both');
  for (const p of paths) if (!existsSync(p)) throw new ConfigError(`${p}: no such file or directory`);
  const key = flags.key
    ? loadSecret({ file: flags.key }, '--key')
    : flags.keyEnv
      ? loadSecret({ env: flags.keyEnv }, '--key-env')
      : null;
  const publicKey = flags.publicKey ? loadPublicKey(flags.publicKey, '--public-key') : null;
  const bar = process.stderr.isTTY ? progressBar() : null;
  let report: VerifyReport;
  try {
    report = await verifyPaths(paths, { key, publicKey, live: flags.live === true, onProgress: bar?.update });
  } finally {
    bar?.done();
    key?.fill(0);
  }
  if (report.trails.length === 0) {
    throw new ConfigError(`no chained record in ${paths.join(', ')}: is the file sink configured with integrity (docs/integrity.md)?`);
  }
  process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  return report.intact ? 0 : 1;
}

/** The human-readable report. */
export function formatReport(report: VerifyReport): string {
  const out: string[] = [];
  for (const trail of report.trails) out.push(...formatTrail(trail));
  if (report.skipped.length > 0) out.push(`skipped (no chained record): ${report.skipped.map((f) => basename(f)).join(', ')}`);
  const checked = [
    report.checked.chain ? 'every record (--key)' : 'records NOT checked (no --key)',
    report.checked.signatures ? 'checkpoint signatures (--public-key)' : 'signatures not checked (no --public-key)',
  ];
  out.push(`checked: ${checked.join('; ')}`);
  out.push(report.intact ? 'result: INTACT' : 'result: BROKEN');
  return out.join('\n') + '\n';
}

function formatTrail(trail: TrailReport): string[] {
  const seq = trail.firstSeq === null ? 'no records' : `seq ${trail.firstSeq}–${trail.lastSeq}`;
  const lines = [
    `${trail.base}: ${trail.intact ? 'intact' : 'BROKEN'} — ${trail.files.length} file(s), ${trail.records} records (${trail.events} events, ${trail.checkpoints} checkpoints), ${seq}, ${trail.restarts} restart(s)`,
  ];
  for (const f of trail.findings) lines.push('  ' + formatFinding(f, trail.base));
  if (trail.findingsOmitted > 0) lines.push(`  … and ${trail.findingsOmitted} more findings`);
  return lines;
}

function formatFinding(f: Finding, base: string): string {
  const file = relative(base + '/..', f.file) || basename(f.file);
  const where = f.line === undefined ? file : `${file}:${f.line}${f.lineEnd !== undefined && f.lineEnd !== f.line ? `-${f.lineEnd}` : ''}`;
  const seq = f.seq === undefined ? '' : ` seq ${f.seq}${f.seqEnd !== undefined && f.seqEnd !== f.seq ? `-${f.seqEnd}` : ''}`;
  return `${f.severity.padEnd(7)} ${f.kind.padEnd(19)} ${where}${seq}: ${f.message}`;
}

/** A one-line progress bar on stderr, redrawn at most ten times a second. */
function progressBar(): { update: (read: number, total: number) => void; done: () => void } {
  let last = 0;
  let drawn = false;
  const width = 30;
  return {
    update(read, total) {
      const now = Date.now();
      if (now - last < 100 && read < total) return;
      last = now;
      const ratio = total > 0 ? Math.min(1, read / total) : 1;
      const fill = Math.round(ratio * width);
      process.stderr.write(`\r[${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${mib(read)}/${mib(total)}`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[K');
    },
  };
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
