/**
 * The `report` subcommand: `audit-router report <file|dir|->... [--since] [--until] [--tool]
 * [--json] [--html <out.html>]`. Prints the terminal summary (or the JSON with --json) on stdout
 * and writes the HTML page with --html. Exit: 0 report made; 1 report made but some input could
 * not be read to its end; 2 usage error (a missing file, a bad time).
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { readPolicyRedactFields } from '../core/config';
import { loadPublicKey, loadSecret } from '../integrity';
import { ConfigError } from '../util/errors';
import type { Filters } from '../report/aggregate';
import { renderHtml } from '../report/html';
import { buildReport } from '../report/index';
import { renderTerminal } from '../report/terminal';
import { parseTimeOption } from '../report/time';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

interface ReportFlags {
  since?: string;
  until?: string;
  tool?: string[];
  json?: boolean;
  html?: string;
  policy?: string;
  redactField?: string[];
  key?: string;
  keyEnv?: string;
  publicKey?: string;
}

/** A tool glob (`*`, `?`; comma-separated lists allowed) as a predicate. */
export function toolMatcher(globs: readonly string[]): ((name: string) => boolean) | null {
  const patterns = globs.flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g !== '');
  if (patterns.length === 0) return null;
  const res = patterns.map(
    (g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`),
  );
  return (name) => res.some((re) => re.test(name));
}

/**
 * Writes to stdout and resolves once the text is handed to the kernel: a pipe is asynchronous,
 * and the process exits right after the command (a large --json would be cut at 64 KiB when
 * the reader is slower than us). A reader that went away (`| head`) is not an error.
 */
function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => {
      if (err && (err as NodeJS.ErrnoException).code !== 'EPIPE') reject(err);
      else resolve();
    };
    // EPIPE also comes as an 'error' event; it stays handled until exit.
    process.stdout.on('error', done);
    process.stdout.write(text, done);
  });
}

export function reportCommand(onDone: (code: number) => void): Command {
  return new Command('report')
    .description(
      'summarise audit trails: totals, per-tool calls, denials, errors and durations, write/destructive activity, timeline; ' +
        'as text, --json or a self-contained --html page (docs/report.md)',
    )
    .argument('<inputs...>', 'trail files (plain or .gz), directories of trails, or - for stdin (a trail or a raw redisctl-mcp stream)')
    .option('--since <time>', 'only events at or after: RFC 3339 (2026-03-05T10:30:00Z), a date (2026-03-05), or a duration ago (24h, 7d)')
    .option('--until <time>', 'only events before (same forms as --since)')
    .option('--tool <glob>', 'only these tools (* and ? wildcards, comma-separated or repeated)', collect)
    .option('--json', 'print the report as JSON (schemas/report.schema.json) instead of the summary')
    .option('--html <file>', 'also write the report as one self-contained HTML page')
    .option('--policy <file>', "a redisctl-mcp policy TOML: its [audit].redact_fields are redacted too (raw streams)")
    .option('--redact-field <name>', 'another field name to redact (repeatable)', collect)
    .option('--key <file>', 'a chained trail: the chain key (a file only its owner can read), to verify every record')
    .option('--key-env <name>', 'or: the environment variable holding the chain key')
    .option('--public-key <file>', 'a chained trail: the Ed25519 public key (PEM), to verify the checkpoint signatures')
    .exitOverride()
    .action(async (inputs: string[], flags: ReportFlags) => {
      const now = Date.now();
      const since = flags.since === undefined ? null : parseTimeOption(flags.since, '--since', now);
      const until = flags.until === undefined ? null : parseTimeOption(flags.until, '--until', now);
      if (since !== null && until !== null && until <= since) throw new ConfigError('--until must be after --since');
      const filters: Filters = {
        sinceUs: since,
        untilUs: until,
        tool: toolMatcher(flags.tool ?? []),
        sinceText: flags.since ?? null,
        untilText: flags.until ?? null,
        toolGlobs: flags.tool ?? [],
      };
      if (flags.key !== undefined && flags.keyEnv !== undefined) throw new ConfigError('--key and --key-env: give one');
      const chainKeys = {
        key:
          flags.key !== undefined || flags.keyEnv !== undefined
            ? loadSecret(flags.key !== undefined ? { file: flags.key } : { env: flags.keyEnv! }, '--key')
            : null,
        publicKey: flags.publicKey !== undefined ? loadPublicKey(flags.publicKey, '--public-key') : null,
      };
      const redactFields = [...(flags.redactField ?? []), ...(flags.policy ? readPolicyRedactFields(flags.policy) : [])];
      const { report, incomplete } = await buildReport({ inputs, filters, redactFields, stdin: process.stdin, progress: process.stderr, chainKeys });
      if (flags.html !== undefined) writeFileSync(flags.html, renderHtml(report), { mode: 0o600 });
      await writeOut(flags.json ? JSON.stringify(report, null, 2) + '\n' : renderTerminal(report));
      onDone(incomplete ? 1 : 0);
    });
}
