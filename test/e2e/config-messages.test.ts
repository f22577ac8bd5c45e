/**
 * What a user reads when a config is wrong, end to end through bin/audit-router: `check-config`
 * and the run refuse with the same one line, exit 2; the key path appears once; an unknown key
 * gets the closest known one suggested; no ajv wording ("must NOT be valid", "must match "then"
 * schema") reaches the user; a TOML syntax error names file:line:column and the key, and never
 * echoes the line (it may hold a secret).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRouter, tempDir } from '../support/cli';

const dir = tempDir('ar-config-messages-');
afterAll(() => dir.cleanup());

let n = 0;
function configFile(text: string): string {
  const file = join(dir.path, `c${++n}.toml`);
  writeFileSync(file, text);
  return file;
}

/** check-config's and the run's refusal of `file`: both exit 2 with the same stderr. */
async function refusal(file: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const checked = await runRouter(['check-config', '-c', file], { env });
  const ran = await runRouter(['-c', file], { input: '', env });
  expect(checked.code).toBe(2);
  expect(ran.code).toBe(2);
  expect(checked.stdout).toBe('');
  expect(ran.stderr).toBe(checked.stderr);
  return checked.stderr.trimEnd();
}

const AJV_WORDING = /must NOT|must match|must have required property|must be equal to|must have propert|exactly one schema|allowed values|must be >=|must be <=/;

describe('config error messages', () => {
  it('an unknown key is named once, with the closest known key suggested', async () => {
    const file = configFile(`[sinks.a]\ntype = "file"\npath = "${join(dir.path, 'a.jsonl')}"\nsizee = "10M"\n`);
    expect(await refusal(file)).toBe(`audit-router: ${file}: sinks.a.sizee: unknown key, did you mean \`size\`?`);
    const far = configFile(`[sinks.a]\ntype = "file"\npath = "${join(dir.path, 'a.jsonl')}"\ncolour = "blue"\n`);
    expect(await refusal(far)).toBe(`audit-router: ${far}: sinks.a.colour: unknown key`);
    const top = configFile('[input]\nmax_line_byte = 5\n[sinks.s]\ntype = "stdout"\n');
    expect(await refusal(top)).toBe(`audit-router: ${top}: input.max_line_byte: unknown key, did you mean \`max_line_bytes\`?`);
  });

  it('api_key and api_key_file together: says what to do', async () => {
    const file = configFile('[sinks.d]\ntype = "datadog"\napi_key = "abc"\napi_key_file = "key.txt"\n');
    expect(await refusal(file)).toBe(`audit-router: ${file}: sinks.d: set either api_key or api_key_file, not both`);
  });

  it('no ajv wording reaches the user, for every kind of schema error', async () => {
    const file = configFile(
      [
        'shutdown_timeout = "soon"',
        'on_audit_failure = "maybe"',
        '[input]',
        'format = 3',
        '[sinks.d]',
        'type = "datadog"',
        'api_key = "abc"',
        'endpoint = "ftp://x"',
        'queue = { max_bytes = "lots", zz = 1 }',
        'buffer = { type = "disk" }',
        'batch = { linger = -1, max_events = 0 }',
      ].join('\n') + '\n',
    );
    const top = await refusal(file);
    expect(top).not.toMatch(AJV_WORDING);
    expect(top).toContain('shutdown_timeout: must be a duration such as "200ms", "30s"');
    expect(top).toContain('on_audit_failure: must be one of "continue", "block", "exit"');

    const sink = configFile(['[sinks.d]', 'type = "datadog"', 'api_key = "abc"', 'endpoint = "ftp://x"', 'queue = { max_bytes = "lots", zz = 1 }', 'buffer = { type = "disk" }', 'batch = { linger = -1, max_events = 0 }', 'tags = ["a,b", "a,b"]'].join('\n') + '\n');
    const text = await refusal(sink);
    expect(text).not.toMatch(AJV_WORDING);
    for (const part of [
      'sinks.d.endpoint: must be an http:// or https:// URL',
      'sinks.d.queue.zz: unknown key',
      'sinks.d.queue.max_bytes: must be a size such as "64K", "100M", or a number of bytes',
      'sinks.d.batch.linger: must be a duration',
      'sinks.d.batch.max_events: must be at least 1',
      'sinks.d.buffer.path: is required when buffer.type = "disk"',
      'sinks.d.tags[0]: must not contain a comma',
    ]) {
      expect(text).toContain(part);
    }

    const fluentd = configFile('[sinks.f]\ntype = "fluentd"\nhost = "h"\nusername = "u"\nport = 0\ntls = 5\n');
    const f = await refusal(fluentd);
    expect(f).not.toMatch(AJV_WORDING);
    expect(f).toContain('sinks.f.shared_key: is required when username is set');
    expect(f).toContain('sinks.f.port: must be at least 1');
    expect(f).toContain('sinks.f.tls: must be true or false, or a table');

    const file2 = configFile(`[sinks.a]\ntype = "file"\npath = ""\nsize = -1\ncompress = 7\nmode = "999"\n`);
    const a = await refusal(file2);
    expect(a).not.toMatch(AJV_WORDING);
    expect(a).toContain('sinks.a.path: must not be empty');
    expect(a).toContain('sinks.a.size: must be a size');
    expect(a).toContain('sinks.a.compress: must be one of "gzip", false');
    expect(a).toContain('sinks.a.mode: must be an octal string such as "0600"');
  });

  it('a TOML syntax error names file:line:column and the key, never the line (a secret)', async () => {
    const file = configFile('# audit\n[sinks.d]\ntype = "datadog"\napi_key = "sk-VERY-SECRET-VALUE\n');
    const text = await refusal(file);
    expect(text).toBe(`audit-router: ${file}:4:32: sinks.d.api_key: invalid TOML: control characters are not allowed in strings`);
    expect(text).not.toContain('VERY-SECRET');
    const header = configFile('[sinks.d\ntype = "stdout"\n');
    expect(await refusal(header)).toBe(`audit-router: ${header}:1:9: sinks.d: invalid TOML: illegal character in key`);
  });
});
