/**
 * The command line. `audit-router [options]` routes stdin (sources/stdin), `audit-router [options]
 * -- cmd …` wraps a command (sources/wrapper); subcommands live beside this file, one each
 * (check-config.ts). Exit: 0 ok, 1 events not written, 2 usage or config error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, type ConfigFlags } from '../core/config';
import { ConfigError, SinkError } from '../util/errors';
import { createLogger, LEVELS, writeStderr, type Level } from '../util/log';
import { PACKAGE_ROOT } from '../util/paths';
import { checkConfigCommand } from './check-config';
import { hashCommand } from './hash';
import { reportCommand } from './report';
import { verifyCommand } from './verify';

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function addRouteOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'TOML config (docs/config.md); the flags below add to it')
    .option('--policy <file>', "a redisctl-mcp policy TOML: its [audit].redact_fields are added to redaction")
    .option('--redact-field <name...>', 'more field names to redact')
    .option('--file <path>', 'add a file sink (rotating; defaults in sinks/file/README.md); repeatable', collect)
    .option('--chain-key <file>', 'chain the --file sinks (docs/integrity.md): the HMAC key, a file only its owner can read')
    .option('--stdout', 'add a stdout sink (JSON lines)')
    .option('--dead-letter <path>', 'where rejected lines and undeliverable events go (redacted)')
    .option('--passthrough', 'write non-audit lines to stderr, redacted, instead of dropping them')
    .option('--max-line-bytes <n>', 'longest accepted line, in bytes (default 1048576)')
    .option('--shutdown-timeout <duration>', 'how long to drain sinks at exit (default "30s")')
    .option('--api-address <host:port>', 'serve /healthz, /readyz, /metrics (and /tap with api.tap) here; off by default')
    .option('--follow <path|glob>', 'read this file (followed through rotation) or named pipe instead of stdin; repeatable', collect)
    .addOption(new Option('--input-format <format>', 'framing of the input: raw lines, kubelet CRI, Docker json-file, or auto (default raw)').choices(['raw', 'cri', 'docker', 'auto']))
    .option('--state-dir <dir>', 'keep file checkpoints here, so a restart resumes where the sinks left off (data_dir)')
    .addOption(new Option('--log-level <level>', 'our own diagnostics on stderr').choices(LEVELS as string[]));
}

/**
 * Node restores a signal's default action (kill) once its last listener is removed, and run()
 * removes its own when it is done: a late SIGTERM, SIGINT or SIGHUP (a signal storm) would then
 * turn the exit status into a kill. These no-op listeners keep the signals handled until exit.
 * They go in right before run(), which adds its own listeners synchronously: no signal is
 * swallowed before run() can act on it.
 */
function keepSignalsHandled(): void {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => {});
}

function fail(err: unknown): number {
  if (err instanceof ConfigError || err instanceof SinkError) {
    writeStderr(`audit-router: ${err.message}\n`);
    return 2;
  }
  writeStderr(`audit-router: internal error: ${(err as Error).stack ?? String(err)}\n`);
  return 70;
}

export async function mainAsync(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('audit-router')
    .description('Routes the audit trail of an MCP server (redisctl-mcp) from its stderr to sinks, redacted.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    // Options after `check-config` belong to it, not to the routing command.
    .enablePositionalOptions()
    .configureOutput({ writeErr: writeStderr, writeOut: (s) => process.stdout.write(s) });
  addRouteOptions(program)
    .argument('[command...]', 'wrapper mode: run this command (after --) and route its stderr; its stdin and stdout stay yours')
    .action(async (command: string[], flags: ConfigFlags) => {
      const config = await loadConfig(flags);
      const logger = createLogger(config.logLevel as Level);
      // Loaded here, not at the top: check-config does not need the pipeline.
      const { run } = require('../core/run') as typeof import('../core/run');
      if (config.sources.length > 0) {
        if (command.length > 0) throw new ConfigError('--follow / [[sources]] and a wrapped command are two inputs: choose one');
        const { buildSources } = require('../core/sources') as typeof import('../core/sources');
        keepSignalsHandled();
        const framing = { format: config.input.format, streams: config.input.streams ?? undefined };
        const source = buildSources(config.sources, { logger, stateDir: config.dataDir, framing });
        code = await run(config, { source, logger });
        return;
      }
      if (command.length === 0) {
        const { stdinSource } = require('../../sources/stdin') as typeof import('../../sources/stdin');
        keepSignalsHandled();
        code = await run(config, { source: stdinSource(), logger });
        return;
      }
      if (config.sinks.some((s) => s.type === 'stdout')) {
        throw new ConfigError(
          "a stdout sink cannot be used in wrapper mode: the wrapped command's stdout is yours (the MCP stdio channel), and audit events would mix into it",
        );
      }
      const { runWrapped } = require('../../sources/wrapper') as typeof import('../../sources/wrapper');
      keepSignalsHandled();
      const wrapped = runWrapped(command, logger);
      const routed = await run(config, { source: wrapped.source, logger });
      const status = await wrapped.exit;
      // The command's own status, unless it succeeded and audit events were lost, or the
      // router stopped it because an audit sink failed (on_audit_failure = "exit": 3).
      const { EXIT_AUDIT_FAILURE } = require('../core/run') as typeof import('../core/run');
      code = routed === EXIT_AUDIT_FAILURE ? routed : status === 0 ? routed : status;
    });
  program
    .command('tap')
    .description('print, live, the redacted events a running router routes (its GET /tap; needs api.tap = true)')
    .exitOverride()
    .option('--address <host:port>', "the router's --api-address", '127.0.0.1:8686')
    .option('--limit <n>', 'exit after this many events')
    .action(async (flags: { address: string; limit?: string }) => {
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) throw new ConfigError('--limit must be a whole number above 0');
      const { runTap } = require('./tap') as typeof import('./tap');
      code = await runTap({ address: flags.address, ...(limit !== undefined ? { limit } : {}) });
    });
  program.addCommand(checkConfigCommand());
  const setCode = (c: number): void => {
    code = c;
  };
  program.addCommand(verifyCommand(setCode));
  program.addCommand(hashCommand(setCode));
  program.addCommand(reportCommand(setCode));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    return fail(err);
  }
  return code;
}

export function main(argv: string[]): void {
  mainAsync(argv).then(
    (code) => {
      process.exitCode = code;
      // Exit once stdout/stderr have flushed; nothing else may keep the process alive.
      setImmediate(() => process.exit(code));
    },
    (err: unknown) => {
      process.exitCode = fail(err);
      setImmediate(() => process.exit(process.exitCode));
    },
  );
}
