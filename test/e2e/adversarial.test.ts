/**
 * Adversarial probes through bin/audit-router: input shaped to slip a secret past redaction, to
 * make our own output carry one, or to crash the router. Each probe runs the real executable on
 * real files and checks the exit status, the `finished` counters, and that no planted token
 * shows anywhere: sink file, stdout, dead letter, passthrough, our own log lines.
 */
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../../src/util/json';
import { LineSplitter, type OversizeLine } from '../../src/framing/lines';
import { collect, finished, runRouter, start, tempDir, type RunResult } from '../support/cli';

const dir = tempDir('ar-adversarial-');
afterAll(() => dir.cleanup());

/** A unique token per planted secret: any trace of it in an output is a leak. */
function token(name: string): string {
  return `adv${name}${randomBytes(6).toString('hex')}`;
}

function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

function auditEvent(fields: JsonObject, extra: JsonObject = {}): JsonObject {
  return {
    timestamp: '2026-03-05T10:30:00.123456Z',
    level: 'INFO',
    fields: { event: 'tool_invocation', tool: 'list_databases', toolset: 'cloud', result: 'success', duration_ms: 7, ...fields },
    target: 'audit',
    ...extra,
  };
}

function flatEvent(fields: JsonObject): JsonObject {
  return {
    timestamp: '2026-03-05T10:30:00.123456Z',
    level: 'INFO',
    event: 'tool_invocation',
    tool: 'list_databases',
    toolset: 'cloud',
    result: 'success',
    duration_ms: 7,
    ...fields,
    target: 'audit',
  };
}

const args = (value: JsonValue): string => JSON.stringify(value);

interface Routed {
  r: RunResult;
  file: string[];
  dead: string[];
  passthrough: string[];
  /** Every output, to search for tokens. */
  outputs: [string, string][];
}

let runs = 0;
async function route(input: string | Buffer | (string | Buffer)[], extra: string[] = ['--stdout', '--passthrough']): Promise<Routed> {
  const n = ++runs;
  const file = join(dir.path, `audit-${n}.jsonl`);
  const dead = join(dir.path, `dead-${n}.jsonl`);
  const r = await runRouter(['--file', file, '--dead-letter', dead, ...extra], { input });
  const fileLines = readLines(file);
  const deadLines = readLines(dead);
  return {
    r,
    file: fileLines,
    dead: deadLines,
    passthrough: r.otherStderr,
    outputs: [
      ['file', fileLines.join('\n')],
      ['dead letter', deadLines.join('\n')],
      ['stdout', r.stdout],
      ['stderr', r.stderr],
    ],
  };
}

function leaks(outputs: [string, string][], cases: { name: string; secrets: string[] }[]): string[] {
  const found: string[] = [];
  for (const c of cases) {
    for (const secret of c.secrets) {
      for (const [where, text] of outputs) if (text.includes(secret)) found.push(`${c.name}: in ${where}`);
    }
  }
  return [...new Set(found)];
}

interface EventCase {
  name: string;
  record: JsonObject;
  secrets: string[];
}

/**
 * Events built to slip secrets past the rules. The first block are findings of the adversarial
 * review (they leaked before the fix); the rest held and stay as regression probes.
 */
function eventCases(): EventCase[] {
  const cases: EventCase[] = [];
  const add = (name: string, build: (t: (label: string) => string) => JsonObject): void => {
    const secrets: string[] = [];
    const record = build((label) => {
      const s = token(label);
      secrets.push(s);
      return s;
    });
    cases.push({ name, record, secrets });
  };

  // Findings.
  add('Cyrillic and Greek look-alike letters in key names', (t) =>
    auditEvent({ arguments: args({ 'p\u0430ssword': t('cy'), 'passw\u03bfrd': t('gr'), 'DB_\u0420ASSWORD': t('cyup'), '\u0455ecret': t('dze') }) }),
  );
  add('look-alike key in a text field', (t) => auditEvent({ message: `login failed p\u0430ssword=${t('m')} user=bob` }));
  add('URL with JSON-escaped slashes in a text field', (t) => auditEvent({ error: `body {"url":"redis:\\/\\/app:${t('e')}@db:6379\\/0"}` }));
  add('URL with JSON-escaped slashes in an argument value', (t) => auditEvent({ arguments: args({ note: `was rediss:\\/\\/:${t('a')}@[::1]:6380` }) }));
  add('redis_command with the value in a field the tool does not have', (t) =>
    auditEvent({ tool: 'redis_command', toolset: 'database', arguments: args({ command: 'SET', key: 'session', value: t('v'), argv: [t('w')] }) }),
  );
  add('redis_bulk_load command entry with a field beside args', (t) =>
    auditEvent({ tool: 'redis_bulk_load', toolset: 'database', arguments: args({ commands: [{ args: ['SET', 'k', t('op')], value: t('x') }] }) }),
  );
  add('a bracketed word as a text value', (t) => auditEvent({ message: `connect password=[k9]${t('b')} ok` }));
  add('fluentd shared_key as an argument', (t) => auditEvent({ arguments: args({ shared_key: t('sk') }) }));

  // Probes that held.
  add('mixed case and separators in key names', (t) =>
    auditEvent({ arguments: args({ 'Pass-Word': t('a'), PASSWORD_: t('b'), x_api_key: t('c'), 'pass\u200bword': t('zw'), ｐａｓｓｗｏｒｄ: t('fw') }) }),
  );
  add('numeric keys and arrays of arrays', (t) =>
    auditEvent({ arguments: args({ 1: `redis://u:${t('n')}@h`, a: [[[`redis://u:${t('aa')}@h`]]], b: [[{ password: t('ab') }]] }) }),
  );
  add('odd URL forms', (t) =>
    auditEvent({
      arguments: args({
        a: `redis://:${t('a')}@host`,
        b: `rediss://user:p%40${t('b')}@[::1]:6380/0`,
        c: `redis+unix://:${t('c')}@/tmp/r.sock`,
        d: `postgresql://u:${t('d')}@h/db?sslpassword=${t('e')}`,
        e: `https://h/cb?redirect=${encodeURIComponent(`redis://u:${t('f')}@h`)}`,
      }),
    }),
  );
  add('URL in JSON in JSON in arguments', (t) =>
    auditEvent({ arguments: args({ outer: JSON.stringify({ inner: JSON.stringify({ url: `redis://default:${t('u')}@h:6379` }) }) }) }),
  );
  add('Authorization and quoted values with escaped quotes in message', (t) =>
    auditEvent({ message: `Authorization: Bearer ${t('bearer')} password="a\\"${t('q')}" token=` }),
  );
  add('secrets in span fields and in the error field', (t) =>
    auditEvent(
      { event: 'tool_error', result: 'error', error: `connect redis://u:${t('err')}@h failed: token=${t('tk')}` },
      { span: { name: 'call', password: t('sp') }, spans: [{ name: 'session', api_key: t('sps'), url: `redis://u:${t('spu')}@h` }] },
    ),
  );
  add('URL with credentials as an object key', (t) => auditEvent({ arguments: args({ [`redis://u:${t('k')}@h`]: 1 }) }));
  add('flattened layout', (t) => flatEvent({ arguments: args({ password: t('f') }), message: `token=${t('m')}` }));
  add('redis_command args as a string, nested arrays', (t) =>
    auditEvent({ tool: 'redis_command', toolset: 'database', arguments: args({ command: 'AUTH', args: `default ${t('s')}` }) }),
  );
  add('redis_command operands in nested arrays', (t) =>
    auditEvent({ tool: 'redis_command', toolset: 'database', arguments: args({ command: 'SET', args: [['k', t('n')]] }) }),
  );
  add('redis_command with arguments that do not parse', (t) =>
    auditEvent({ tool: 'redis_command', toolset: 'database', arguments: `{"command":"AUTH","args":["default","${t('cut')}"` }),
  );
  add('redis_alias_set commands not an array, and entries not objects', (t) =>
    auditEvent({ tool: 'redis_alias_set', toolset: 'database', arguments: args({ name: 'a', commands: [['SET', 'k', t('arr')], `SET k ${t('str')}`] }) }),
  );
  add('redis_bulk_load commands as a string', (t) => auditEvent({ tool: 'redis_bulk_load', toolset: 'database', arguments: args({ commands: `SET k ${t('c')}` }) }));
  return cases;
}

/** The same event failing the schema: it travels the dead-letter path. */
function invalidVariant(record: JsonObject): JsonObject {
  const copy = structuredClone(record);
  const fields = (copy['fields'] ?? copy) as JsonObject;
  fields['duration_ms'] = 'slow';
  return copy;
}

/** The same event under another target (a server set up differently): passthrough, as JSON. */
function otherTargetVariant(record: JsonObject): JsonObject {
  return { ...structuredClone(record), target: 'redisctl_mcp::audit' };
}

describe('secrets the rules must catch, in every output', () => {
  const cases = eventCases();
  let first: Routed;

  beforeAll(async () => {
    const input = [
      ...cases.map((c) => JSON.stringify(c.record)),
      ...cases.map((c) => JSON.stringify(invalidVariant(c.record))),
      ...cases.map((c) => JSON.stringify(otherTargetVariant(c.record))),
    ];
    first = await route(input.join('\n') + '\n');
  });

  it('routes every case: sinks, dead letter, passthrough', () => {
    expect(first.r.code).toBe(0);
    expect(finished(first.r)).toMatchObject({ lines: 3 * cases.length, audit: cases.length, invalid: cases.length, passthrough: cases.length, lost: 0 });
    expect(first.file).toHaveLength(cases.length);
    expect(first.dead).toHaveLength(cases.length);
    expect(first.passthrough).toHaveLength(cases.length);
  });

  it('leaks no planted token anywhere', () => {
    expect(leaks(first.outputs, cases)).toEqual([]);
  });

  it('keeps the look-alike keys, the tool fields and the URL shapes, redacting only values', () => {
    const byName = new Map(cases.map((c, i) => [c.name, JSON.parse(first.file[i]!) as JsonObject]));
    const fieldsOf = (name: string) => byName.get(name)!['fields'] as JsonObject;
    expect(JSON.parse(fieldsOf('Cyrillic and Greek look-alike letters in key names')['arguments'] as string)).toEqual({
      'p\u0430ssword': '[REDACTED]',
      'passw\u03bfrd': '[REDACTED]',
      'DB_\u0420ASSWORD': '[REDACTED]',
      '\u0455ecret': '[REDACTED]',
    });
    expect(fieldsOf('URL with JSON-escaped slashes in a text field')['error']).toBe('body {"url":"redis:\\/\\/redacted:redacted@db:6379\\/0"}');
    expect(JSON.parse(fieldsOf('redis_command with the value in a field the tool does not have')['arguments'] as string)).toEqual({
      command: 'SET',
      key: '[REDACTED]',
      value: '[REDACTED]',
      argv: '[REDACTED]',
    });
    expect(JSON.parse(fieldsOf('redis_bulk_load command entry with a field beside args')['arguments'] as string)).toEqual({
      commands: [{ args: ['SET', '[REDACTED]', '[REDACTED]'], value: '[REDACTED]' }],
    });
    expect(fieldsOf('a bracketed word as a text value')['message']).toBe('connect password=[REDACTED] ok');
  });

  it('is idempotent: file, dead-letter events and passthrough lines routed again come out the same', async () => {
    const deadEvents = first.dead.map((l) => JSON.stringify((JSON.parse(l) as JsonObject)['event']));
    const again = await route([...first.file, ...deadEvents, ...first.passthrough].join('\n') + '\n');
    expect(again.r.code).toBe(0);
    expect(again.file).toEqual(first.file);
    expect(again.dead.map((l) => JSON.stringify((JSON.parse(l) as JsonObject)['event']))).toEqual(deadEvents);
    expect(again.passthrough).toEqual(first.passthrough);
  });
});

describe('non-audit lines through --passthrough', () => {
  it('masks secrets in hostile text forms, idempotently', async () => {
    const cases: { name: string; line: string; secrets: string[] }[] = [];
    const add = (name: string, build: (s: string) => string): void => {
      const s = token('t');
      cases.push({ name, line: build(s), secrets: [s] });
    };
    add('Bearer token', (s) => `\x1b[32m INFO\x1b[0m http: Authorization: Bearer ${s}`);
    add('escaped-slash URL', (s) => `upstream said {"url":"redis:\\/\\/u:${s}@h"}`);
    add('look-alike key', (s) => `retry with p\u0430ssword=${s}`);
    add('zero-width character in the key', (s) => `pass\u200bword=${s} next`);
    add('ANSI around the key', (s) => `\x1b[3mtoken\x1b[0m\x1b[2m=\x1b[0m${s}`);
    add('bracketed word', (s) => `password=[x]${s}`);
    add('escaped quote in a quoted value', (s) => `password="a\\"${s}" done`);
    add('password at the very end', (s) => `connecting to redis://default:${s}@db password=`);
    add('IPv6 URL with an encoded @', (s) => `connecting rediss://user:p%40${s}@[::1]:6380`);
    add('truncated non-audit JSON', (s) => `{"msg":"config","password":"${s}`);
    add('JSON-RPC tools/call of redis_command', (s) =>
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"redis_command","arguments":{"command":"AUTH","args":["default","${s}"]}}}`,
    );
    add('JSON-RPC tools/call of redis_bulk_load', (s) =>
      `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"redis_bulk_load","arguments":{"commands":[{"args":["SET","k","${s}"]}]}}}`,
    );
    add('non-audit JSON with a raw command', (s) => `{"level":"DEBUG","fields":{"tool":"redis_command","arguments":"{\\"command\\":\\"AUTH\\",\\"args\\":[\\"${s}\\"]}"},"target":"redisctl_mcp"}`);
    const first = await route(cases.map((c) => c.line).join('\n') + '\n', ['--passthrough']);
    expect(first.r.code).toBe(0);
    expect(finished(first.r)).toMatchObject({ lines: cases.length, passthrough: cases.length });
    expect(leaks(first.outputs, cases)).toEqual([]);
    const again = await route(first.passthrough.join('\n') + '\n', ['--passthrough']);
    expect(again.passthrough).toEqual(first.passthrough);
  });
});

describe('a byte order mark at the start of a line', () => {
  it('is not part of the line: the audit event is routed and redacted, not passed through as text', async () => {
    const s = token('bom');
    const event = auditEvent({ tool: 'redis_command', toolset: 'database', arguments: args({ command: 'AUTH', args: ['default', s] }) });
    const input = `\ufeff${JSON.stringify(event)}\n\ufeff\n\ufeffplain text\n`;
    const { r, file, dead, outputs } = await route(input);
    expect(r.code).toBe(0);
    expect(finished(r)).toMatchObject({ lines: 3, empty: 1, audit: 1, passthrough: 1 });
    expect(JSON.parse((JSON.parse(file[0]!) as { fields: { arguments: string } }).fields.arguments)).toEqual({
      command: 'AUTH',
      args: ['[REDACTED]', '[REDACTED]'],
    });
    expect(dead).toEqual([]);
    expect(leaks(outputs, [{ name: 'bom', secrets: [s] }])).toEqual([]);
  });
});

describe('hostile shapes: a clear, counted outcome, never a crash', () => {
  it('routes, dead-letters or drops each line, and counts it', async () => {
    const s = token('shape');
    const wrongTypes = { timestamp: 1, level: [], target: 'audit', fields: { event: 1, tool: 2, toolset: null, result: {}, duration_ms: 'x', arguments: { password: s } } };
    const lines: (string | Buffer)[] = [
      '\r', // empty
      '\r\r\r', // text
      '{', // text
      '{"target":"audit"}', // invalid
      JSON.stringify(wrongTypes), // invalid
      JSON.stringify({ timestamp: '2026-03-05T10:30:00Z', level: 'INFO', target: 'audit', fields: [{ password: s }] }), // invalid
      JSON.stringify(auditEvent({ arguments: args(Array.from({ length: 100_000 }, (_, i) => i)) })), // audit
      JSON.stringify(auditEvent({ arguments: '\\'.repeat(500_000) })), // audit
      JSON.stringify(auditEvent({ tool: 'redis_command', arguments: args({ command: 'SET', args: Array.from({ length: 30_000 }, () => s) }) })), // audit
      JSON.stringify(auditEvent({ arguments: 'a\u0000b', message: 'nul\u0000byte' })), // audit
      JSON.stringify(auditEvent({ message: 'x' })).replace('"x"', '"\\ud800\\udfff\\udc00"'), // audit, lone surrogates
      JSON.stringify(auditEvent({})).replace('"duration_ms":7', '"duration_ms":1e400'), // invalid (Infinity)
      JSON.stringify(auditEvent({})).replace('"duration_ms":7', '"duration_ms":-0'), // audit
      JSON.stringify(auditEvent({})).replace('"duration_ms":7', '"duration_ms":123456789012345678901234567890'), // audit
      JSON.stringify(auditEvent({})).replace('"fields":{', `"fields":{"password":"${s}"},"fields":{`), // audit (last key wins)
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x00, 0x22, 0x3a, 0x7d]), // text
      `{"target":"audit","fields":{"password":"${s}"`, // unparseable
      // input closes mid-line: an audit event cut short, without its newline
      JSON.stringify(auditEvent({ arguments: args({ password: s }) })).slice(0, 150),
    ];
    const input = lines.map((l, i) => (i === lines.length - 1 ? l : Buffer.concat([Buffer.from(l), Buffer.from('\n')])));
    const { r, file, dead, outputs } = await route(input, []);
    expect(r.code).toBe(0);
    expect(finished(r)).toMatchObject({ lines: lines.length, empty: 1, audit: 8, invalid: 4, unparseable: 2, dropped: 3, lost: 0 });
    expect(file).toHaveLength(8);
    expect(dead.map((l) => (JSON.parse(l) as { reason: string }).reason)).toEqual([
      ...Array(4).fill('schema_invalid'),
      'unparseable_audit',
      'unparseable_audit',
    ]);
    expect(leaks(outputs, [{ name: 'shapes', secrets: [s] }])).toEqual([]);
  });

  it('max_line_bytes: exactly the limit passes with or without \\r, one byte more is discarded by size and hash', async () => {
    const limit = 2048;
    const s = token('limit');
    const pad = (extra: number): string => {
      const base = JSON.stringify(auditEvent({ message: '' }));
      return JSON.stringify(auditEvent({ message: 'p'.repeat(limit - base.length + extra) }));
    };
    const exact = pad(0);
    const over = pad(1).replace(`"${'p'.repeat(s.length)}`, `"${s}`);
    expect(Buffer.byteLength(exact)).toBe(limit);
    const input = `${exact}\n${exact}\r\n${over}\n${over}\r\n${'\r'.repeat(limit)}\r\n${exact}`;
    const { r, file, dead, outputs } = await route(input, ['--max-line-bytes', String(limit)]);
    expect(r.code).toBe(0);
    expect(finished(r)).toMatchObject({ lines: 6, audit: 3, oversize: 2, dropped: 1 });
    expect(file).toEqual([exact, exact, exact]);
    const sha = createHash('sha256').update(over).digest('hex');
    expect(dead.map((l) => JSON.parse(l) as JsonObject)).toEqual([
      expect.objectContaining({ reason: 'oversize_line', line: 3, size: limit + 1, sha256: sha }),
      expect.objectContaining({ reason: 'oversize_line', line: 4, size: limit + 1, sha256: sha }),
    ]);
    expect(leaks(outputs, [{ name: 'limit', secrets: [s] }])).toEqual([]);
  });

  it('arguments of 10 MB under a 1 MiB limit are discarded without content; just under the limit they are routed', async () => {
    const s = token('big');
    const huge = JSON.stringify(auditEvent({ arguments: args({ blob: 'x'.repeat(10 * 1024 * 1024), password: s }) }));
    const base = JSON.stringify(auditEvent({ arguments: args({ blob: '', password: s }) }));
    const near = JSON.stringify(auditEvent({ arguments: args({ blob: 'x'.repeat(1_048_576 - base.length - 64), password: s }) }));
    const { r, file, dead, outputs } = await route(`${huge}\n${near}\n`, []);
    expect(r.code).toBe(0);
    expect(finished(r)).toMatchObject({ lines: 2, oversize: 1, audit: 1 });
    expect(file).toHaveLength(1);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]!)).toMatchObject({ reason: 'oversize_line', line: 1, size: Buffer.byteLength(huge) });
    expect(leaks(outputs, [{ name: 'big', secrets: [s] }])).toEqual([]);
  });

  it('an oversize line has one size and hash however its bytes were split into chunks, a split \\r\\n included', () => {
    const collectOversize = (input: Buffer, cuts: number[]): OversizeLine[] => {
      const out: OversizeLine[] = [];
      const splitter = new LineSplitter(8);
      const handler = { line: () => {}, oversize: (info: OversizeLine) => void out.push(info) };
      let from = 0;
      for (const cut of [...cuts, input.length]) {
        splitter.push(input.subarray(from, cut), handler);
        from = cut;
      }
      splitter.end(handler);
      return out;
    };
    for (const text of ['0123456789\r\nok\n', 'abcdefgh\r\r\n', '\r\r\r\r\r\r\r\r\r\r\n', '0123456789\rx\n', '0123456789\r']) {
      const input = Buffer.from(text);
      const whole = collectOversize(input, []);
      expect(whole).toHaveLength(1);
      for (let a = 1; a < input.length; a++) {
        for (let b = a; b < input.length; b++) expect(collectOversize(input, [a, b]), `${JSON.stringify(text)} cut at ${a},${b}`).toEqual(whole);
      }
    }
  });
});

describe('our own output carries no secret from the config', () => {
  const DD_KEY = token('ddkey');
  const SHARED_KEY = token('sharedkey');
  const PASSWORD = token('fluentpw');
  const secrets = [{ name: 'config', secrets: [DD_KEY, SHARED_KEY, PASSWORD] }];
  let http: HttpServer;
  let tcp: TcpServer;

  beforeAll(async () => {
    // A Datadog intake that refuses the key, and a Forward "server" that never says HELO.
    http = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(403).end('{"errors":["Forbidden"]}'));
    });
    tcp = createTcpServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    await new Promise((resolve) => tcp.close(resolve));
  });

  const config = (deadLetter: string): string => `shutdown_timeout = "1s"
[sinks.dd]
type = "datadog"
api_key = "${DD_KEY}"
endpoint = "http://127.0.0.1:${(http.address() as AddressInfo).port}"
[sinks.fl]
type = "fluentd"
host = "127.0.0.1"
port = ${(tcp.address() as AddressInfo).port}
shared_key = "${SHARED_KEY}"
username = "audit"
password = "${PASSWORD}"
[dead_letter]
path = "${deadLetter}"
`;

  it('check-config prints the pipeline with api_key, shared_key and password redacted', async () => {
    const file = join(dir.path, 'secrets.toml');
    writeFileSync(file, config(join(dir.path, 'unused-dead.jsonl')));
    const r = await runRouter(['check-config', '-c', file]);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { sinks: { options: Record<string, unknown> }[] };
    expect(printed.sinks[0]!.options['api_key']).toBe('[REDACTED]');
    expect(printed.sinks[1]!.options).toMatchObject({ shared_key: '[REDACTED]', password: '[REDACTED]', username: 'audit' });
    expect(leaks([['stdout', r.stdout], ['stderr', r.stderr]], secrets)).toEqual([]);
  });

  it('config errors next to a secret do not quote it', async () => {
    for (const [n, text] of [
      ['unterminated', `[sinks.dd]\ntype = "datadog"\napi_key = "${DD_KEY}\n`],
      ['trailing', `[sinks.dd]\ntype = "datadog"\napi_key = "${DD_KEY}" x = 1\n`],
      ['duplicate', `[sinks.dd]\ntype = "datadog"\napi_key = "${DD_KEY}"\napi_key = "${DD_KEY}"\n`],
      ['wrong type', `[sinks.fl]\ntype = "fluentd"\nshared_key = ["${SHARED_KEY}"]\npassword = { p = "${PASSWORD}" }\n`],
    ] as const) {
      const file = join(dir.path, `bad-${n.replace(' ', '-')}.toml`);
      writeFileSync(file, text);
      for (const argv of [['check-config', '-c', file], ['-c', file]]) {
        const r = await runRouter(argv, { input: '' });
        expect(r.code, `${n}: ${r.stderr}`).toBe(2);
        expect(leaks([['stdout', r.stdout], ['stderr', r.stderr]], secrets), n).toEqual([]);
      }
    }
  });

  it('debug logs, refused credentials and the dead letter of both network sinks carry none', async () => {
    const deadLetter = join(dir.path, 'network-dead.jsonl');
    const file = join(dir.path, 'network.toml');
    writeFileSync(file, config(deadLetter));
    const r = await runRouter(['-c', file, '--log-level', 'debug', '--passthrough'], {
      input: `${JSON.stringify(auditEvent({}))}\nplain text line\n`,
    });
    expect(r.code).toBe(0);
    expect(finished(r)).toMatchObject({ audit: 1, dead_lettered: 2, lost: 0 });
    expect(leaks([['stdout', r.stdout], ['stderr', r.stderr], ['dead letter', readLines(deadLetter).join('\n')]], secrets)).toEqual([]);
  });
});

describe('the process around the pipeline', () => {
  function mixedInput(pairs: number, secret: string): string {
    const out: string[] = [];
    for (let i = 0; i < pairs; i++) {
      out.push(`\x1b[32m INFO\x1b[0m redisctl_mcp: step ${i} password=${secret}`);
      out.push(JSON.stringify(auditEvent({ duration_ms: i })));
    }
    return out.join('\n') + '\n';
  }

  it('a stderr reader that goes away (EPIPE) with --passthrough: no crash, every event written, exit 0', async () => {
    const file = join(dir.path, 'epipe-stderr.jsonl');
    const child = start(['--file', file, '--passthrough']);
    // Close our end of the child's stderr on its first byte: every later write there fails with EPIPE.
    child.stderr!.once('data', () => child.stderr!.destroy());
    child.stdin!.on('error', () => {});
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.stdin!.end(mixedInput(3000, token('pipe')));
    expect(await exit).toBe(0);
    expect(readLines(file).map((l) => (JSON.parse(l) as { fields: { duration_ms: number } }).fields.duration_ms)).toEqual(
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });

  /** Starts the router, sends `signal` every millisecond from its "started" line until it exits. */
  async function storm(signal: NodeJS.Signals, input: string, endInput: boolean, file: string): Promise<RunResult> {
    const child = start(['--file', file]);
    let timer: NodeJS.Timeout | undefined;
    child.stderr!.on('data', () => {
      timer ??= setInterval(() => child.kill(signal), 1);
    });
    child.stdin!.on('error', () => {});
    const done = collect(child);
    child.on('exit', () => clearInterval(timer));
    if (endInput) child.stdin!.end(input);
    else child.stdin!.write(input);
    try {
      return await done;
    } finally {
      clearInterval(timer);
    }
  }

  it('a SIGTERM storm from start-up: stops once, flushes, exits 0 (never killed by a late SIGTERM)', async () => {
    const file = join(dir.path, 'sigterm.jsonl');
    const r = await storm('SIGTERM', mixedInput(200, token('term')), false, file);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    const done = finished(r);
    expect(done).toMatchObject({ reason: 'SIGTERM', lost: 0 });
    expect(readLines(file)).toHaveLength(done['audit'] as number);
  });

  it('a SIGHUP storm while routing: every event written whole, exit 0', async () => {
    const file = join(dir.path, 'sighup.jsonl');
    const r = await storm('SIGHUP', mixedInput(2000, token('hup')), true, file);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(finished(r)).toMatchObject({ reason: 'eof', audit: 2000, lost: 0 });
    const written = readLines(file).map((l) => (JSON.parse(l) as { fields: { duration_ms: number } }).fields.duration_ms);
    expect(written).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });
});

describe('passthrough of JSON-RPC responses', () => {
  it("withholds a response's result whole (tool output names no secret), keeps id and errors", async () => {
    const secret = 'sk-jsonrpc-result-5f1e2d3c4b5a';
    const input = [
      JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: `1) "requirepass"\n2) "${secret}"` }] } }),
      JSON.stringify({ jsonrpc: '2.0', id: 8, error: { code: -32007, message: 'denied by policy' } }),
    ].join('\n') + '\n';
    const r = await runRouter(['--stdout', '--passthrough'], { input });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain(secret);
    const passed = r.otherStderr.map((l) => JSON.parse(l));
    expect(passed).toEqual([
      { jsonrpc: '2.0', id: 7, result: '[REDACTED]' },
      { jsonrpc: '2.0', id: 8, error: { code: -32007, message: 'denied by policy' } },
    ]);
  });
});

describe('a plugin sink that throws', () => {
  it('does not stop the input nor the other sinks; its events go to the dead letter; said once', async () => {
    const dir2 = tempDir('ar-throw-');
    try {
      const plugin = join(dir2.path, 'throwing-sink.js');
      writeFileSync(
        plugin,
        `exports.createSink = (o, ctx) => ({ name: ctx.name, type: 'throwing',
          counters: { accepted: 0, delivered: 0, deadLettered: 0, failed: 0, dropped: 0, retried: 0, bufferedBytes: 0, buffered: 0, lastError: null },
          write(event) { throw new TypeError('boom ' + event.json); }, drain: async () => {}, close: async () => {} });\n`,
      );
      const config = join(dir2.path, 'c.toml');
      const out = join(dir2.path, 'audit.jsonl');
      const dead = join(dir2.path, 'dead.jsonl');
      writeFileSync(config, `[sinks.bad]\ntype = "./throwing-sink.js"\n[sinks.good]\ntype = "file"\npath = ${JSON.stringify(out)}\n[dead_letter]\npath = ${JSON.stringify(dead)}\n`);
      const event = (i: number) => JSON.stringify({ timestamp: '2026-03-05T10:30:00Z', level: 'INFO', fields: { event: 'tool_invocation', tool: 't', toolset: 's', result: 'success', duration_ms: i, arguments: '{"password":"sk-thrown-secret-1"}' }, target: 'audit' });
      const r = await runRouter(['-c', config], { input: [0, 1, 2].map(event).join('\n') + '\n' });
      expect(r.code).toBe(0);
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
      const records = readFileSync(dead, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(records.map((d) => [d.reason, d.sink, d.detail])).toEqual([0, 1, 2].map(() => ['undeliverable', 'bad', 'the sink threw TypeError']));
      expect(r.logs.filter((l) => l['message'] === 'sink write threw; its events go to the dead letter')).toHaveLength(1);
      expect(r.stderr).not.toContain('boom');
      expect(r.stderr + readFileSync(dead, 'utf8')).not.toContain('sk-thrown-secret-1');
    } finally {
      dir2.cleanup();
    }
  });
});
