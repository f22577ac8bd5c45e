import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, readPolicyRedactFields } from '../../../src/core/config';
import { ConfigError } from '../../../src/util/errors';
import { runRouter, tempDir } from '../../support/cli';

const dir = tempDir('ar-config-');
afterAll(() => dir.cleanup());

let n = 0;
function configFile(text: string): string {
  const path = join(dir.path, `c${++n}.toml`);
  writeFileSync(path, text);
  return path;
}

async function configError(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  const file = configFile(text);
  try {
    await loadConfig({ config: file }, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(file);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const FULL = `
shutdown_timeout = "5s"
[input]
max_line_bytes = "64K"
passthrough = true

[redact]
fields = ["encryption_passphrase"]
policy = "policy.toml"

[sinks.archive]
type = "file"
path = "audit/audit.jsonl"
size = "100M"
interval = "1d"
compress = "gzip"
max_files = 14
mode = "0600"

[sinks.console]
type = "stdout"

[dead_letter]
path = "audit/rejected.jsonl"

[log]
level = "debug"
`;

describe('config loading', () => {
  it('loads every section, resolves paths against the config file and reads the policy', async () => {
    writeFileSync(join(dir.path, 'policy.toml'), '[audit]\nenabled = true\nredact_fields = ["customer_ssn"]\n');
    const file = configFile(FULL);
    const c = await loadConfig({ config: file }, {});
    expect(c.input).toEqual({ maxLineBytes: 65536, passthrough: true, format: 'raw', streams: null });
    expect(c.redact).toEqual({ fields: ['encryption_passphrase'], policy: join(dir.path, 'policy.toml'), policyFields: ['customer_ssn'], mode: 'mask', mask: null });
    expect(c.sinks.map((s) => [s.name, s.type])).toEqual([['archive', 'file'], ['console', 'stdout']]);
    expect(c.sinks[0]!.options['path']).toBe('audit/audit.jsonl');
    expect(c.sinks[0]!.baseDir).toBe(dir.path);
    expect(c.deadLetter?.options['path']).toBe('audit/rejected.jsonl');
    expect(c.shutdownTimeoutMs).toBe(5000);
    expect(c.logLevel).toBe('debug');
  });

  it('flags add to the file: --file, --stdout, --redact-field, --passthrough, --max-line-bytes', async () => {
    const file = configFile('[sinks.a]\ntype = "stdout"\n');
    const c = await loadConfig({ config: file, file: ['x.jsonl'], stdout: true, redactField: ['pin'], passthrough: true, maxLineBytes: '1000' }, {});
    expect(c.sinks.map((s) => `${s.name}:${s.type}`)).toEqual(['a:stdout', 'file:file', 'stdout:stdout']);
    expect(c.redact.fields).toEqual(['pin']);
    expect(c.input).toEqual({ maxLineBytes: 1000, passthrough: true, format: 'raw', streams: null });
  });

  it('interpolates ${ENV_VAR} in strings, and $${ stays literal', async () => {
    const file = configFile('[sinks.a]\ntype = "file"\npath = "${LOG_DIR}/a.jsonl"\n[redact]\nfields = ["$${x}"]\n');
    const c = await loadConfig({ config: file }, { LOG_DIR: '/var/log/mcp' });
    expect(c.sinks[0]!.options['path']).toBe('/var/log/mcp/a.jsonl');
    expect(c.redact.fields).toEqual(['${x}']);
  });

  it('names the key of a missing environment variable', async () => {
    const e = await configError('[sinks.a]\ntype = "file"\npath = "${NOPE_NOT_SET}/a"\n');
    expect(e.key).toBe('sinks.a.path');
    expect(e.message).toContain('NOPE_NOT_SET is not set');
  });

  it('rejects unknown keys, naming file and key', async () => {
    const e = await configError('[input]\nmax_line_byte = 5\n[sinks.a]\ntype = "stdout"\n');
    expect(e.key).toBe('input.max_line_byte');
    expect(e.message).toMatch(/input\.max_line_byte: unknown key/);
    const e2 = await configError('[sinks.a]\ntype = "file"\npath = "x"\nsizee = "1M"\n');
    expect(e2.message).toContain('sinks.a.sizee: unknown key');
  });

  it('rejects wrong types and bad sizes and durations', async () => {
    expect((await configError('[input]\npassthrough = "yes"\n[sinks.a]\ntype = "stdout"\n')).message).toContain('input.passthrough: must be true or false');
    expect((await configError('[input]\nmax_line_bytes = "lots"\n[sinks.a]\ntype = "stdout"\n')).message).toContain('input.max_line_bytes: must be a size');
    expect((await configError('shutdown_timeout = "soon"\n[sinks.a]\ntype = "stdout"\n')).message).toContain('shutdown_timeout: must be a duration');
  });

  it('a sink without type, and an unknown sink type, are errors', async () => {
    expect((await configError('[sinks.a]\npath = "x"\n')).message).toContain('sinks.a.type: is required');
    expect((await configError('[sinks.a]\ntype = "kafka"\n')).message).toContain('unknown sink type "kafka"');
  });

  it('invalid TOML names the file and the position', async () => {
    const e = await configError('[input\n');
    expect(e.message).toMatch(/invalid TOML/);
  });

  it('no sink at all is refused: nothing would receive the events', async () => {
    await expect(loadConfig({}, {})).rejects.toThrow(/no sink configured/);
  });

  it('reads a redisctl-mcp policy file, and reports a bad one', () => {
    const p = join(dir.path, 'p.toml');
    writeFileSync(p, '[policy]\nmode = "read-only"\n[audit]\ninclude_args = true\nredact_fields = ["a", "b"]\n');
    expect(readPolicyRedactFields(p)).toEqual(['a', 'b']);
    writeFileSync(p, '[audit]\nredact_fields = "a"\n');
    expect(() => readPolicyRedactFields(p)).toThrow(/audit\.redact_fields: must be an array of strings/);
  });
});

describe('check-config (CLI)', () => {
  it('prints the resolved pipeline and exits 0, with secrets in sink options redacted', async () => {
    mkdirSync(join(dir.path, 'cc'), { recursive: true });
    writeFileSync(join(dir.path, 'cc', 'policy.toml'), '[audit]\nredact_fields = ["customer_ssn"]\n');
    const file = join(dir.path, 'cc', 'router.toml');
    writeFileSync(file, FULL + '\n[sinks.plug]\ntype = "./plugin.js"\napi_key = "sk-plugin-secret-1"\n');
    writeFileSync(join(dir.path, 'cc', 'plugin.js'), 'exports.createSink = () => { throw new Error("not started by check-config"); };\n');
    const r = await runRouter(['check-config', '-c', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sinks.map((s: { name: string }) => s.name)).toEqual(['archive', 'console', 'plug']);
    expect(out.redact.policy_fields).toEqual(['customer_ssn']);
    expect(r.stdout).not.toContain('sk-plugin-secret-1');
    expect(out.sinks[2].options.api_key).toBe('[REDACTED]');
  });

  it('exits 2 with the file, key and problem on an invalid config', async () => {
    const file = configFile('[sinks.a]\ntype = "file"\npath = "x"\nmax_files = "many"\n');
    const r = await runRouter(['check-config', '-c', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('sinks.a.max_files');
  });

  it('a file sink that cannot open its path stops start-up: exit 2, path and error code named', async () => {
    writeFileSync(join(dir.path, 'blocker'), 'x');
    const r = await runRouter(['--file', join(dir.path, 'blocker', 'audit.jsonl')], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`sink file: cannot open ${join(dir.path, 'blocker', 'audit.jsonl')}: ENOTDIR`);
  });

  it('exits 2 on usage errors and when no sink is given', async () => {
    expect((await runRouter(['--no-such-flag'])).code).toBe(2);
    const r = await runRouter([], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no sink configured/);
  });
});
