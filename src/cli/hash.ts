/**
 * `audit-router hash --key <file> [value]`: prints the keyed redaction token of a value, the same
 * `[REDACTED:hmac-sha256:…]` that `[redact] mode = "hmac"` writes, so an incident responder can
 * check whether a suspected secret appears in the logs. Without a value it reads stdin (one
 * trailing newline dropped), so the secret stays out of the shell history and the process list.
 */
import { Command } from 'commander';
import { ConfigError } from '../util/errors';
import { loadSecret } from '../integrity/keys';
import { redactionToken } from '../integrity/redaction-token';

export interface HashFlags {
  key?: string;
  keyEnv?: string;
}

/** The `hash` subcommand; `done` receives the exit status. */
export function hashCommand(done: (code: number) => void): Command {
  return new Command('hash')
    .description('print the [redact] mode = "hmac" token of a value (read from stdin when not given)')
    .argument('[value]', 'the value; better left out and given on stdin, to keep it out of the shell history')
    .option('--key <file>', 'the redaction key (a file only its owner can read)')
    .option('--key-env <name>', 'or: the environment variable holding it')
    .exitOverride()
    .action(async (value: string | undefined, flags: HashFlags) => done(await hashMain(value, flags)));
}

export async function hashMain(value: string | undefined, flags: HashFlags): Promise<number> {
  if ((flags.key === undefined) === (flags.keyEnv === undefined)) throw new ConfigError('hash needs --key <file> or --key-env <name>');
  const key = flags.key !== undefined ? loadSecret({ file: flags.key }, '--key') : loadSecret({ env: flags.keyEnv! }, '--key-env');
  const secret = value ?? (await readStdin());
  process.stdout.write(redactionToken(key, secret) + '\n');
  key.fill(0);
  return 0;
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}
