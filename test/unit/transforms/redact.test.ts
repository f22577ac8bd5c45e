import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/util/errors';
import type { JsonObject, JsonValue } from '../../../src/util/json';
import { BUILTIN_SENSITIVE_KEYS, REDACTED, Redactor, normaliseKey } from '../../../src/transforms/redact';
import { redactionCases } from '../../fixtures/redaction-cases';

const clone = <T extends JsonValue>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Redacts a parsed copy of `line` and serialises it, as the pipeline does. */
function redactLine(r: Redactor, line: string): string {
  return JSON.stringify(r.redactEvent(JSON.parse(line) as JsonObject));
}

function args(record: JsonObject): JsonValue {
  const fields = record.fields as JsonObject;
  return JSON.parse(fields.arguments as string) as JsonValue;
}

function auditEvent(tool: string, argumentsValue: JsonValue): JsonObject {
  return {
    timestamp: '2026-03-05T10:30:00.123456Z',
    level: 'INFO',
    fields: {
      event: 'tool_invocation',
      tool,
      toolset: 'database',
      result: 'success',
      duration_ms: 3,
      arguments: JSON.stringify(argumentsValue),
    },
    target: 'audit',
  };
}

describe('key names (rule 1)', () => {
  const r = new Redactor();

  it('normalises like redisctl-mcp: ASCII letters and digits, lower-cased', () => {
    expect(normaliseKey('DB-Password')).toBe('dbpassword');
    expect(normaliseKey('access_secret_key')).toBe('accesssecretkey');
    expect(normaliseKey('X-API-Key')).toBe('xapikey');
    expect(normaliseKey('__proto__')).toBe('proto');
    expect(normaliseKey('pässword')).toBe('pssword');
  });

  it('contains redisctl-mcp ALWAYS_REDACT_FIELDS and common credential names', () => {
    const upstream = [
      'password', 'dbpassword', 'globalpassword', 'apikey', 'apisecret', 'accesskeyid', 'accesssecretkey',
      'consolepassword', 'bindpass', 'licensekey', 'secret', 'secretkey', 'token', 'accesstoken',
      'refreshtoken', 'clientsecret', 'privatekey', 'credential',
    ];
    const common = ['authorization', 'cookie', 'setcookie', 'passphrase', 'xapikey', 'sessiontoken'];
    for (const name of [...upstream, ...common]) {
      expect(BUILTIN_SENSITIVE_KEYS).toContain(name);
      expect(BUILTIN_SENSITIVE_KEYS).toContain(normaliseKey(name));
    }
  });

  it('matches case- and separator-insensitively', () => {
    for (const key of ['Password', 'DB_PASSWORD', 'db-password', 'dbPassword', 'api.key', 'Set-Cookie', 'x-api-key', 'ACCESS_TOKEN']) {
      expect(r.isSensitiveKey(key), key).toBe(true);
    }
  });

  it('matches names containing password/passphrase/secret/privatekey/credential, and *token / *pass suffixes', () => {
    for (const key of ['new_password', 'ssh_private_key', 'client_secret_value', 'gpg_passphrase', 'aws_credentials', 'github_token', 'authentication_redis_pass']) {
      expect(r.isSensitiveKey(key), key).toBe(true);
    }
  });

  it('keeps ordinary names, including max_tokens, username, key and bypass', () => {
    for (const key of ['max_tokens', 'prompt_tokens', 'token_count', 'username', 'user', 'key', 'name', 'bypass_cache', 'memory_size', 'tool', 'arguments', '__proto__', '']) {
      expect(r.isSensitiveKey(key), key).toBe(false);
    }
  });

  it('folds full-width letters (NFKC) without losing plain-normalisation matches', () => {
    expect(r.isSensitiveKey('ｐａｓｓｗｏｒｄ')).toBe(true);
    expect(r.isSensitiveKey('password™')).toBe(true);
  });

  it('adds constructor fields, normalised', () => {
    const custom = new Redactor({ fields: ['Tenant-Id', 'my_field'] });
    expect(custom.isSensitiveKey('tenantId')).toBe(true);
    expect(custom.isSensitiveKey('MY-FIELD')).toBe(true);
    expect(r.isSensitiveKey('tenantId')).toBe(false);
    const event = auditEvent('create_thing', { tenant_id: 'marker-tenant', name: 'x' });
    expect(args(custom.redactEvent(event))).toEqual({ tenant_id: REDACTED, name: 'x' });
  });

  it('rejects bad options with a ConfigError', () => {
    expect(() => new Redactor({ fields: ['--'] })).toThrow(ConfigError);
    expect(() => new Redactor({ maxDepth: 0 })).toThrow(ConfigError);
    expect(() => new Redactor({ maxDepth: 1.5 })).toThrow(ConfigError);
    expect(() => new Redactor({ maxDepth: 100_000 })).toThrow(ConfigError);
  });

  it('redacts values of any type under a sensitive key', () => {
    const out = r.redactValue({ password: 123, secret: { a: 'marker' }, token: ['marker'], api_key: null, credential: true });
    expect(out).toEqual({ password: REDACTED, secret: REDACTED, token: REDACTED, api_key: REDACTED, credential: REDACTED });
  });
});

describe('upstream redisctl-mcp cases (test/fixtures/redaction-cases.ts)', () => {
  const r = new Redactor();
  for (const c of redactionCases) {
    it(c.name, () => {
      const line = JSON.stringify(c.input);
      const out = redactLine(r, line);
      for (const secret of c.secrets) expect(out).not.toContain(secret);
      const record = JSON.parse(out) as JsonObject;
      if (c.expectedFields) expect(record.fields).toEqual(c.expectedFields);
      // Everything outside `fields` is untouched, in the same order.
      expect(Object.keys(record)).toEqual(Object.keys(c.input));
      expect(record.timestamp).toBe(c.input.timestamp);
      // Idempotent.
      expect(redactLine(r, out)).toBe(out);
    });
  }

  it('the same cases in the flattened layout', () => {
    for (const c of redactionCases) {
      const { fields, ...rest } = c.input;
      const flat = { ...rest, ...(fields as JsonObject) };
      const out = redactLine(r, JSON.stringify(flat));
      for (const secret of c.secrets) expect(out, c.name).not.toContain(secret);
      if (c.expectedFields) expect(JSON.parse(out), c.name).toEqual({ ...rest, ...c.expectedFields });
    }
  });
});

describe('embedded JSON strings (rule 2)', () => {
  const r = new Redactor();

  it('parses, redacts and writes back compact JSON at any depth, JSON in JSON too', () => {
    const inner = JSON.stringify({ token: 'marker-inner', keep: 1 });
    const value = { data: JSON.stringify({ nested: inner, list: [JSON.stringify([{ secret: 'marker-list' }])] }) };
    const out = r.redactValue(clone(value)) as JsonObject;
    const data = JSON.parse(out.data as string) as JsonObject;
    expect(JSON.parse(data.nested as string)).toEqual({ token: REDACTED, keep: 1 });
    expect(JSON.parse((data.list as string[])[0]!)).toEqual([{ secret: REDACTED }]);
    expect(JSON.stringify(out)).not.toContain('marker');
  });

  it('re-serialises from the parsed object: escaped key names and duplicate keys do not slip through', () => {
    const escaped = '{"pass\\u0077ord":"marker-a","\\u0074oken":"marker-b"}';
    expect(r.redactValue(escaped)).toBe('{"password":"[REDACTED]","token":"[REDACTED]"}');
    const dup = '{"note":"redis://u:marker-c@h","note":"plain","secret":"marker-d","secret":"marker-e"}';
    expect(r.redactValue(dup)).toBe('{"note":"plain","secret":"[REDACTED]"}');
  });

  it('accepts leading whitespace before the JSON', () => {
    expect(r.redactValue('  \n{"password":"marker"}')).toBe('{"password":"[REDACTED]"}');
  });

  it('fails closed on a string that tries to be JSON but does not parse', () => {
    for (const s of ['{"password":"marker', '[1,{"pass\\u0077ord":"marker"', '{"a":"b",}', '["marker"']) {
      expect(r.redactValue(s), s).toBe(REDACTED);
    }
  });

  it('applies text masking to a bracketed string without quotes, and leaves plain ones alone', () => {
    expect(r.redactValue('[1/3] step done')).toBe('[1/3] step done');
    expect(r.redactValue('{password=marker}')).toBe('{password=[REDACTED]');
    expect(r.redactValue('[x] token: marker and redis://u:marker@h')).toBe('[x] token: [REDACTED] and redis://redacted:redacted@h');
  });

  it('leaves scalars and non-JSON strings as they are', () => {
    for (const v of ['just a string', 42, true, null, '', '42', 'redis://localhost:6379/0']) {
      expect(r.redactValue(v)).toBe(v);
    }
  });
});

describe('URLs (rule 3)', () => {
  const r = new Redactor();
  const url = (s: string) => r.redactValue(s);

  it('masks userinfo like redisctl-mcp, for redis, rediss, redis+unix and any other scheme', () => {
    expect(url('redis://default:hunter2@localhost:6379/2?keep=yes')).toBe('redis://redacted:redacted@localhost:6379/2?keep=yes');
    expect(url('rediss://:hunter2@[::1]:6380/0')).toBe('rediss://:redacted@[::1]:6380/0');
    expect(url('redis://justauser@host')).toBe('redis://redacted@host');
    expect(url('postgres://app:hunter2@db.internal:5432/app')).toBe('postgres://redacted:redacted@db.internal:5432/app');
    expect(url('https://user:hunter2@example.com/path')).toBe('https://redacted:redacted@example.com/path');
    expect(url('mongodb://u:hunter2@h1:27017,h2:27017/db?replicaSet=rs0')).toBe('mongodb://redacted:redacted@h1:27017,h2:27017/db?replicaSet=rs0');
  });

  it('finds URLs anywhere in a string', () => {
    expect(url('connect to redis://default:hunter2@db:6379, then retry')).toBe('connect to redis://redacted:redacted@db:6379, then retry');
    expect(url('a=redis://u:p1@h b=https://u:p2@h2.')).toBe('a=redis://redacted:redacted@h b=https://redacted:redacted@h2.');
  });

  it('masks sensitive query parameters and, for Redis URLs, the fragment', () => {
    expect(url('redis+unix:///tmp/redis.sock?db=2&pass=m1&user=m2&token=m3#m4')).toBe(
      'redis+unix:///tmp/redis.sock?db=2&pass=redacted&user=redacted&token=redacted#redacted',
    );
    expect(url('unix:///run/redis.sock?password=m1&db=0')).toBe('unix:///run/redis.sock?password=redacted&db=0');
    expect(url('https://api.example.com/v1?api_key=m1&page=2&X-Amz-Signature=m2&username=m3')).toBe(
      'https://api.example.com/v1?api_key=redacted&page=2&X-Amz-Signature=redacted&username=redacted',
    );
    expect(url('https://app.example.com/cb#access_token=m1&token_type=bearer')).toBe(
      'https://app.example.com/cb#access_token=redacted&token_type=bearer',
    );
    expect(url('https://docs.example.com/page#section-2')).toBe('https://docs.example.com/page#section-2');
    expect(url('https://x.example.com/?p%61ss=m1')).toBe('https://x.example.com/?p%61ss=redacted');
  });

  it('masks URLs nested in a URL, percent-encoded too', () => {
    const out = url('https://login.example.com/?redirect=https%3A%2F%2Fu%3Amarker%40h%2Fx&next=redis://u:marker@h');
    expect(out).not.toContain('marker');
    expect(out).toContain('login.example.com');
  });

  it('fails closed on malformed URLs', () => {
    for (const s of [
      'redis://[',
      'redis://default:marker@[::1',
      'redis://u:marker/with-slash@host:6379',
      'redis://u:12/marker@host',
      'redis://:marker',
      'https://u:marker/x@host',
      'https://host:99999/',
      'redis://h/?p%ZZss=x',
    ]) {
      expect(url(s), s).toBe(REDACTED);
    }
    expect(url('before redis://[ after')).toBe(`before ${REDACTED} after`);
  });

  it('leaves URLs without credentials byte for byte', () => {
    for (const s of ['redis://localhost:6379/0', 'https://example.com/a/b?c=d&e=f#g', 'redis+unix:///tmp/redis.sock?db=1', 'see https://medium.com/@user/post.', 'http://[::1]:8080/']) {
      expect(url(s), s).toBe(s);
    }
  });

  it('masks a URL with credentials used as an object key, keeping key order', () => {
    const out = r.redactValue({ a: 1, 'redis://u:marker@h': 2, b: 3 }) as JsonObject;
    expect(Object.keys(out)).toEqual(['a', 'redis://redacted:redacted@h', 'b']);
  });
});

describe('tool rules (rule 4)', () => {
  const r = new Redactor();

  it('redis_command keeps the upper-cased command name and redacts every operand', () => {
    const out = r.redactEvent(auditEvent('redis_command', { command: 'set', args: ['k', 'marker-v', 'EX', '10'] }));
    expect(args(out)).toEqual({ command: 'SET', args: [REDACTED, REDACTED, REDACTED, REDACTED] });
  });

  it('redis_command redacts a command name that is not a command name', () => {
    for (const command of ['AUTH marker', '', 42, 'redis://u:marker@h']) {
      const out = r.redactEvent(auditEvent('redis_command', { command, args: [] }));
      expect(args(out), String(command)).toEqual({ command: REDACTED, args: [] });
    }
  });

  it('redis_bulk_load and redis_alias_set keep each command name and redact the rest', () => {
    for (const tool of ['redis_bulk_load', 'redis_alias_set']) {
      const out = r.redactEvent(
        auditEvent(tool, { name: 'n', commands: [{ args: ['hset', 'h', 'f', 'marker'] }, { args: [] }, { args: ['ping'] }] }),
      );
      expect(args(out), tool).toEqual({
        name: 'n',
        commands: [{ args: ['HSET', REDACTED, REDACTED, REDACTED] }, { args: [] }, { args: ['PING'] }],
      });
    }
    const bad = r.redactEvent(auditEvent('redis_bulk_load', { commands: 'marker' }));
    expect(args(bad)).toEqual({ commands: REDACTED });
  });

  it('takes the tool from the event, not from the arguments', () => {
    const other = r.redactEvent(auditEvent('redis_set', { command: 'set', args: ['k', 'v'], tool: 'redis_command' }));
    expect(args(other)).toEqual({ command: 'set', args: ['k', 'v'], tool: 'redis_command' });
  });

  it('fails closed when the raw-command arguments do not parse or are not an object', () => {
    for (const raw of ['{"command":"AUTH","args":["marker"', '[1,2]', 'marker plain text']) {
      const event = auditEvent('redis_command', null);
      (event.fields as JsonObject).arguments = raw;
      expect((r.redactEvent(event).fields as JsonObject).arguments, raw).toBe(REDACTED);
    }
  });

  it('applies to the flattened layout and to arguments given as an object', () => {
    const flat: JsonObject = { level: 'INFO', tool: 'redis_command', arguments: { command: 'get', args: ['marker'] }, target: 'audit' };
    expect(r.redactEvent(flat)).toEqual({ level: 'INFO', tool: 'redis_command', arguments: { command: 'GET', args: [REDACTED] }, target: 'audit' });
  });

  it('still honours a configured field named like a field the rule reads', () => {
    const custom = new Redactor({ fields: ['arguments'] });
    const out = custom.redactEvent(auditEvent('redis_command', { command: 'get', args: ['k'] }));
    expect((out.fields as JsonObject).arguments).toBe(REDACTED);
  });
});

describe('depth limit and deep input (rule 5)', () => {
  it('replaces subtrees deeper than maxDepth', () => {
    const r = new Redactor({ maxDepth: 3 });
    // Containers: root at depth 0, a's value 1, b's value 2, c's value 3, d's value 4 (too deep).
    const out = r.redactValue({ a: { b: { c: { d: { e: 'x' } }, keep: 'y' } }, list: [[[['x']]]] });
    expect(out).toEqual({ a: { b: { c: { d: REDACTED }, keep: 'y' } }, list: [[[REDACTED]]] });
  });

  it('counts embedded JSON strings as nesting', () => {
    const r = new Redactor({ maxDepth: 3 });
    const out = r.redactValue({ a: JSON.stringify({ b: JSON.stringify({ c: 1 }) }) }) as JsonObject;
    // root 0, string under a at 1, parsed object 2, string under b at 3, its parsed object 4
    expect(JSON.parse(out.a as string)).toEqual({ b: REDACTED });
  });

  it('survives 100 000-deep nesting as a parsed object and array', () => {
    const r = new Redactor();
    const n = 100_000;
    const deepObject = JSON.parse('{"a":'.repeat(n) + '"marker-deep"' + '}'.repeat(n)) as JsonObject;
    const out = r.redactValue(deepObject);
    const text = JSON.stringify(out);
    expect(text).not.toContain('marker-deep');
    expect(text).toContain(REDACTED);
    const deepArray = JSON.parse('['.repeat(n) + ']'.repeat(n)) as JsonValue;
    expect(JSON.stringify(r.redactValue(deepArray))).toContain(REDACTED);
  });

  it('survives 100 000-deep nesting inside an arguments string, for any tool', () => {
    const r = new Redactor();
    const n = 100_000;
    const deep = '{"x":'.repeat(n) + '"marker-deep"' + '}'.repeat(n);
    for (const tool of ['create_enterprise_database', 'redis_command']) {
      const event = auditEvent(tool, null);
      (event.fields as JsonObject).arguments = deep;
      const out = JSON.stringify(r.redactEvent(event));
      expect(out).not.toContain('marker-deep');
      expect(out.length).toBeLessThan(2000);
      const again = JSON.parse(out) as JsonObject;
      expect(JSON.stringify(r.redactEvent(again))).toBe(out);
    }
  });

  it('is bounded: a long chain of URLs nested in URLs fails closed', () => {
    const r = new Redactor();
    const s = 'a://a/'.repeat(50_000) + 'redis://u:marker@h';
    const out = r.redactValue(s) as string;
    expect(out).not.toContain('marker');
  });
});

describe('text lines (rule 6)', () => {
  const r = new Redactor();

  it('masks URL credentials and key=value / key: value pairs in ANSI tracing text', () => {
    const line =
      '\x1b[2m2026-03-05T10:30:00Z\x1b[0m \x1b[32m INFO\x1b[0m redisctl_mcp: connecting url=redis://default:hunter2@db:6379 password=abc token: xyz';
    expect(r.redactText(line)).toBe(
      '\x1b[2m2026-03-05T10:30:00Z\x1b[0m \x1b[32m INFO\x1b[0m redisctl_mcp: connecting url=redis://redacted:redacted@db:6379 password=[REDACTED] token: [REDACTED]',
    );
  });

  it('handles ANSI codes around the separator, as tracing colours field names', () => {
    const line = '\x1b[3mpassword\x1b[0m\x1b[2m=\x1b[0mhunter2 \x1b[3mdb\x1b[0m\x1b[2m=\x1b[0m0';
    expect(r.redactText(line)).toBe('\x1b[3mpassword\x1b[0m\x1b[2m=\x1b[0m[REDACTED] \x1b[3mdb\x1b[0m\x1b[2m=\x1b[0m0');
  });

  it('masks quoted pairs, JSON-ish values and authorization headers', () => {
    expect(r.redactText('body {"name": "db", "password": "hun ter2", "x": 1}')).toBe('body {"name": "db", "password": "[REDACTED]", "x": 1}');
    expect(r.redactText("cfg {'api_key': 'marker'}")).toBe("cfg {'api_key': '[REDACTED]'}");
    expect(r.redactText('credentials={"user": "a", "pw": "marker"} next')).toBe('credentials=[REDACTED] next');
    expect(r.redactText('Authorization: Bearer abc.def-ghi ok')).toBe('Authorization: Bearer [REDACTED] ok');
    expect(r.redactText('sent header bearer eyJhbGciOi.x.y')).toBe('sent header Bearer [REDACTED]');
    expect(r.redactText('escaped "token": "a\\"marker" end')).toBe('escaped "token": "[REDACTED]" end');
    expect(r.redactText('arguments="{\\"password\\":\\"marker\\",\\"x\\":1}" end')).toBe(
      'arguments="{\\"password\\":\\"[REDACTED]\\",\\"x\\":1}" end',
    );
  });

  it('redacts a whole URL that is the value of a sensitive key', () => {
    expect(r.redactText('password=redis://u:p@h/0 ok')).toBe('password=[REDACTED] ok');
    expect(r.redactText('"secret": "https://example.com/x"')).toBe('"secret": "[REDACTED]"');
  });

  it('leaves lines without secrets byte for byte', () => {
    for (const line of [
      '\x1b[2m2026-03-05T10:30:00Z\x1b[0m \x1b[32m INFO\x1b[0m redisctl_mcp::server: listening on stdio max_tokens=5 db=0',
      'plain text, nothing here: 10:30:00',
      'connect redis://localhost:6379/0 ok',
      '',
    ]) {
      expect(r.redactText(line)).toBe(line);
    }
  });

  it('is idempotent on text', () => {
    for (const line of [
      'url=redis://default:hunter2@db:6379 password=abc token: xyz',
      'password=redis://u:p@h/0 x="token": "y" Authorization: Basic Zm9v',
      'bad redis://[ then https://u:p@h/?redirect=https%3A%2F%2Fa%3Ab%40c',
      'q https://h/?password=x&y=1 secret: {"a": [1, "b"]}',
    ]) {
      const once = r.redactText(line);
      expect(r.redactText(once), line).toBe(once);
    }
  });

  it('masks free-text fields of JSON lines (message) like text', () => {
    const line = { timestamp: 't', level: 'WARN', fields: { message: 'retry password=abc', attempt: 2 }, target: 'redisctl_mcp' };
    expect(r.redactValue(line)).toEqual({ ...line, fields: { message: 'retry password=[REDACTED]', attempt: 2 } });
  });
});

describe('nothing else changes (rule 7)', () => {
  const r = new Redactor();

  it('a secret-free event comes out byte for byte, in both layouts, with spans', () => {
    const lines = [
      '{"timestamp":"2026-03-05T10:30:00.123456Z","level":"INFO","fields":{"event":"tool_invocation","tool":"list_enterprise_databases","toolset":"enterprise","result":"success","duration_ms":45},"target":"audit"}',
      '{"timestamp":"2026-03-05T10:30:00.123456Z","level":"INFO","fields":{"event":"tool_invocation","tool":"create_enterprise_database","toolset":"enterprise","result":"success","duration_ms":1200,"arguments":"{\\"name\\":\\"cache-db\\",\\"memory_size\\":104857600,\\"password\\":\\"[REDACTED]\\"}"},"target":"audit"}',
      '{"timestamp":"2026-03-05T10:30:00Z","level":"INFO","event":"tool_denied","tool":"redis_command","result":"denied","duration_ms":0,"arguments":"{\\"command\\":\\"FLUSHALL\\",\\"args\\":[]}","target":"audit","span":{"name":"call","id":7},"spans":[{"name":"session","client":"claude"}]}',
      '{"timestamp":"t","level":"INFO","fields":{"event":"tool_error","tool":"get_cloud_subscription","arguments":"{\\"subscription_id\\":12,\\"max_tokens\\":5,\\"note\\":\\"über ✓ \\\\n\\",\\"url\\":\\"redis://h:6379\\"}","error":"not found"},"target":"audit"}',
    ];
    for (const line of lines) expect(redactLine(r, line)).toBe(line);
  });

  it('keeps field order and untouched values identical when it does redact', () => {
    const nested = { deep: { list: [1, 2, 3] } };
    const record: JsonObject = { z: 1, password: 'marker', a: nested, m: 'redis://u:marker@h', b: true };
    const out = r.redactEvent(record);
    expect(out).toBe(record);
    expect(Object.keys(out)).toEqual(['z', 'password', 'a', 'm', 'b']);
    expect(out.a).toBe(nested);
    expect(JSON.stringify(out)).toBe('{"z":1,"password":"[REDACTED]","a":{"deep":{"list":[1,2,3]}},"m":"redis://redacted:redacted@h","b":true}');
  });

  it('handles __proto__ keys: no prototype pollution, not dropped, not leaked', () => {
    const line =
      '{"fields":{"tool":"x","arguments":"{\\"__proto__\\":{\\"password\\":\\"marker-a\\",\\"polluted\\":1},\\"b\\":2}"},"__proto__":{"token":"marker-b","url":"redis://u:marker-c@h"}}';
    const record = JSON.parse(line) as JsonObject;
    const out = JSON.stringify(r.redactEvent(record));
    expect(out).not.toMatch(/marker/);
    expect(out).toBe(
      '{"fields":{"tool":"x","arguments":"{\\"__proto__\\":{\\"password\\":\\"[REDACTED]\\",\\"polluted\\":1},\\"b\\":2}"},"__proto__":{"token":"[REDACTED]","url":"redis://redacted:redacted@h"}}',
    );
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).token).toBeUndefined();
    // A sensitive configured `__proto__`-normalised name redacts the own property itself.
    const custom = new Redactor({ fields: ['proto'] });
    const rec2 = JSON.parse('{"__proto__":{"a":1},"b":2}') as JsonObject;
    expect(JSON.stringify(custom.redactEvent(rec2))).toBe('{"__proto__":"[REDACTED]","b":2}');
    expect(Object.getPrototypeOf(rec2)).toBe(Object.prototype);
  });

  it('is idempotent and leaks nothing on generated events', () => {
    const r2 = new Redactor({ fields: ['tenant'] });
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    let secretId = 0;
    const secrets: string[] = [];
    const secret = (): string => {
      const s = `zq${secretId++}sv`;
      secrets.push(s);
      return s;
    };
    const sensitiveKeys = ['password', 'dbPassword', 'api-key', 'Token', 'client_secret', 'tenant', 'SET_COOKIE', 'pass\u0077ord'];
    const plainKeys = ['name', 'uid', 'max_tokens', 'memory_size', 'url', 'list', 'note', '__proto__', 'message'];
    const leaf = (): JsonValue => {
      switch (rand(9)) {
        case 0: return rand(1000);
        case 1: return rand(2) === 0;
        case 2: return null;
        case 3: return `redis://user:${secret()}@[::1]:6379/0?db=1`;
        case 4: return `https://h.example.com/p?token=${secret()}&x=${rand(9)}`;
        case 5: return '\x1b[2mts\x1b[0m retry=3 ok';
        case 6: return 'plain value ✓';
        case 7: return '[1/3] step';
        default: return `redis://[${secret()}`;
      }
    };
    const gen = (depth: number): JsonValue => {
      if (depth > 4) return leaf();
      switch (rand(5)) {
        case 0: {
          const a: JsonValue[] = [];
          for (let i = rand(4); i > 0; i--) a.push(gen(depth + 1));
          return a;
        }
        case 1:
        case 2: {
          const o: JsonObject = {};
          for (let i = rand(5); i > 0; i--) {
            if (rand(6) === 0) {
              o.message = `\x1b[2mts\x1b[0m connect password=${secret()} url=redis://u:${secret()}@h ok`;
            } else if (rand(3) === 0) {
              const v: JsonValue = rand(2) === 0 ? secret() : { inner: secret() };
              Object.defineProperty(o, sensitiveKeys[rand(sensitiveKeys.length)]!, { value: v, enumerable: true, writable: true, configurable: true });
            } else {
              Object.defineProperty(o, plainKeys[rand(plainKeys.length)]!, { value: gen(depth + 1), enumerable: true, writable: true, configurable: true });
            }
          }
          return o;
        }
        case 3: return JSON.stringify(gen(depth + 1));
        default: return leaf();
      }
    };
    const tools = ['redis_command', 'redis_bulk_load', 'redis_alias_set', 'create_enterprise_database', 'update_enterprise_cluster_certificates'];
    for (let i = 0; i < 400; i++) {
      const before = secrets.length;
      const argsValue = gen(0);
      const tool = tools[rand(tools.length)]!;
      const record: JsonObject = {
        timestamp: 't',
        level: 'INFO',
        fields: { event: 'tool_invocation', tool, toolset: 'x', arguments: JSON.stringify(argsValue), note: gen(1) },
        target: 'audit',
      };
      const line = JSON.stringify(record);
      const once = redactLine(r2, line);
      for (const s of secrets.slice(before)) expect(once, `event ${i}: ${line}`).not.toContain(s);
      expect(redactLine(r2, once), `event ${i}`).toBe(once);
      const value = JSON.stringify(r2.redactValue(JSON.parse(line) as JsonValue));
      for (const s of secrets.slice(before)) expect(value, `event ${i} as a value`).not.toContain(s);
      expect(JSON.stringify(r2.redactValue(JSON.parse(value) as JsonValue)), `event ${i} as a value`).toBe(value);
    }
    expect(secrets.length).toBeGreaterThan(100);
  });
});
