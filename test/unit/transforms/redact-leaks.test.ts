/**
 * Unit tests of the rules added for issue 8's leak classes: key-name word rules and their
 * allow-list, tool rules for neutral fields, text rules (headers, query parameters, PEM keys,
 * Redis commands, config values, flags), JSON behind a BOM, exact integers, the mask seam, and
 * terminal escaping.
 */
import { describe, expect, it } from 'vitest';
import { isCredentialName, keyWords, normaliseKey } from '../../../src/transforms/redact/keys';
import { REDACTED, Redactor } from '../../../src/transforms/redact';
import { cloneJson, mayHoldBigInteger, parseJson, stringifyJson } from '../../../src/util/exact-json';
import type { JsonObject, JsonValue } from '../../../src/util/json';
import { isJsonObject } from '../../../src/util/json';
import { escapeForTerminal, escapeJsonForTerminal } from '../../../src/util/terminal';

const r = new Redactor();

function toolArgs(tool: string, args: JsonValue): JsonValue {
  const record: JsonObject = { fields: { event: 'tool_invocation', tool, arguments: JSON.stringify(args) }, target: 'audit' };
  return JSON.parse((r.redactEvent(record).fields as JsonObject).arguments as string) as JsonValue;
}

describe('key names: words and the allow-list', () => {
  it('cuts words at separators and camelCase humps', () => {
    expect(keyWords('upstreamApiKey')).toEqual(['upstream', 'api', 'key']);
    expect(keyWords('APIKey')).toEqual(['api', 'key']);
    expect(keyWords('DD-API-KEY-VALUE')).toEqual(['dd', 'api', 'key', 'value']);
    expect(keyWords('tls_key_file_pass')).toEqual(['tls', 'key', 'file', 'pass']);
    expect(keyWords('s3Key2')).toEqual(['s3', 'key2']);
  });

  it('masks names that contain a sensitive word', () => {
    for (const key of [
      'datadog_apikey', 'upstreamApiKey', 'myAccessKeyId', 'masterauth', 'requirepass', 'primaryauth', 'db_pwd', 'passwd',
      'admin_pw', 'redisPass', 'pswd', 'client_key_pem', 'keyPem', 'ssh_key', 'account_key', 'storage_account_key',
      'signing_key_b64', 'x-auth-token', 'bearerToken', 'basic_auth', 'session_cookie', 'otp', 'private_pem',
      'cert_key', 'tls_certificate_key', 'privkey', 'jwt', 'passcode', 'pin_code',
    ]) {
      expect(r.isSensitiveKey(key), key).toBe(true);
    }
  });

  it('keeps the allow-listed harmless names: counts, sizes, limits, policies, key alone, keyspace, metrics', () => {
    for (const key of [
      'key', 'keys', 'keyspace', 'key_count', 'max_keys', 'num_keys', 'key_prefix', 'key_pattern', 'primary_key',
      'public_key', 'key_name', 'tokens_used', 'max_tokens', 'prompt_tokens', 'token_count', 'token_type',
      'password_policy', 'password_min_length', 'password_expiry_days', 'password_required', 'has_password',
      'secret_count', 'api_key_count', 'tls_key_file', 'auth_method', 'authentication_query_suffix', 'bypass_cache',
      'passthrough', 'compass_heading', 'progressToken', 'next_page_token', 'cert_pem', 'memory_limit_in_gb',
    ]) {
      expect(r.isSensitiveKey(key), key).toBe(false);
    }
  });

  it('judges the exact list before the allow-list, and configured names too', () => {
    const exact = new Set(['passwordpolicy']);
    expect(isCredentialName('passwordpolicy', ['password', 'policy'], exact)).toBe(true);
    expect(isCredentialName('passwordpolicy', ['password', 'policy'], new Set())).toBe(false);
    expect(new Redactor({ fields: ['password_policy'] }).isSensitiveKey('password_policy')).toBe(true);
    expect(normaliseKey('tls-key-file-pass')).toBe('tlskeyfilepass');
  });

  it('does not cut words inside a control or zero-width character the wrong way', () => {
    expect(r.isSensitiveKey('pass\u0000word')).toBe(true);
    expect(r.isSensitiveKey('pass\u200bword')).toBe(true);
  });
});

describe('tool rules for neutral fields', () => {
  it('redis_config_set: secret parameters, a parameter that is not a name, fields the tool lacks', () => {
    expect(toolArgs('redis_config_set', { parameter: 'requirepass', value: 'x1' })).toEqual({ parameter: 'requirepass', value: REDACTED });
    expect(toolArgs('redis_config_set', { parameter: 'TLS-KEY-FILE-PASS', value: 'x2' })).toEqual({ parameter: 'TLS-KEY-FILE-PASS', value: REDACTED });
    expect(toolArgs('redis_config_set', { parameter: 'maxmemory', value: '1gb' })).toEqual({ parameter: 'maxmemory', value: '1gb' });
    expect(toolArgs('redis_config_set', { parameter: 'requirepass x3', value: '' })).toEqual({ parameter: REDACTED, value: REDACTED });
    expect(toolArgs('redis_config_set', { parameter: 'save', value: '60 1 requirepass x4' })).toEqual({ parameter: 'save', value: REDACTED });
    expect(toolArgs('redis_config_set', { parameter: 'maxmemory', value: '1gb', val: 'x5' })).toEqual({ parameter: 'maxmemory', value: '1gb', val: REDACTED });
    expect(toolArgs('redis_config_set', { value: 'x6' })).toEqual({ value: REDACTED });
  });

  it('ACL rules keep everything but passwords and hashes', () => {
    expect(toolArgs('create_enterprise_acl', { name: 'a', acl: 'on >x1 <x2 #h1 !h2 nopass ~* +@all' })).toEqual({
      name: 'a',
      acl: 'on >[REDACTED] <[REDACTED] #[REDACTED] ![REDACTED] nopass ~* +@all',
    });
    expect(toolArgs('update_redis_rule', { rule_id: 1, name: 'ro', redis_rule: '+@read ~*' })).toEqual({ rule_id: 1, name: 'ro', redis_rule: '+@read ~*' });
  });

  it('locations: userinfo with or without a scheme, signed parameters, lists', () => {
    expect(toolArgs('export_enterprise_database', { uid: 1, export_location: 'ops:x1@backup.internal/exports' })).toEqual({
      uid: 1,
      export_location: '[REDACTED]@backup.internal/exports',
    });
    expect(toolArgs('import_database', { import_from_uri: ['ftp://u:x2@h/dump.rdb', 's3://bucket/a@b.rdb'] })).toEqual({
      import_from_uri: ['ftp://redacted:redacted@h/dump.rdb', 's3://bucket/a@b.rdb'],
    });
    expect(toolArgs('import_enterprise_database', { import_location: 'bucket/path/file@2026.rdb' })).toEqual({ import_location: 'bucket/path/file@2026.rdb' });
  });

  it('data under a Redis key or JSONPath that names a credential', () => {
    expect(toolArgs('redis_set', { key: 'cfg:api_token', value: 'x1' })).toEqual({ key: 'cfg:api_token', value: REDACTED });
    expect(toolArgs('redis_set', { key: 'user:1:name', value: 'Ada' })).toEqual({ key: 'user:1:name', value: 'Ada' });
    expect(toolArgs('redis_json_set', { key: 'svc', path: "$['password']", value: '"x2"' })).toEqual({ key: 'svc', path: "$['password']", value: REDACTED });
    expect(toolArgs('redis_hset', { key: 'svc:secrets', fields: { a: 'x3' } })).toEqual({ key: 'svc:secrets', fields: REDACTED });
    expect(toolArgs('redis_hset', { key: 'user:1', fields: { name: 'Ada', password: 'x4' } })).toEqual({ key: 'user:1', fields: { name: 'Ada', password: REDACTED } });
  });

  it('raw API bodies by endpoint', () => {
    expect(toolArgs('enterprise_raw_api', { method: 'PUT', path: '/v1/cluster/update_cert', body: { name: 'api', key: 'x1' } })).toEqual({
      method: 'PUT',
      path: '/v1/cluster/update_cert',
      body: { name: 'api', key: REDACTED },
    });
    expect(toolArgs('enterprise_raw_api', { method: 'GET', path: '/v1/bdbs', body: { key: 'k' } })).toEqual({ method: 'GET', path: '/v1/bdbs', body: { key: 'k' } });
    expect(toolArgs('cloud_raw_api', { method: 'PUT', path: '/v1/license', body: JSON.stringify({ license: 'x2' }) })).toEqual({
      method: 'PUT',
      path: '/v1/license',
      body: JSON.stringify({ license: REDACTED }),
    });
  });
});

describe('text rules in any string', () => {
  const v = (s: string) => r.redactValue(s);

  it('authorization headers and query parameters without a scheme', () => {
    expect(v('Authorization: Basic dXNlcjpwdw==')).toBe('Authorization: Basic [REDACTED]');
    expect(v('x: Bearer abc.def')).toBe('x: Bearer [REDACTED]');
    expect(v('/v1/x?api_key=x1&page=2#token=x2')).toBe('/v1/x?api_key=[REDACTED]&page=2#token=[REDACTED]');
    expect(v('/v1/x?key=x3&sig=x4')).toBe('/v1/x?key=[REDACTED]&sig=[REDACTED]');
    expect(v('/v1/x?p%61ssword=x5')).toBe('/v1/x?p%61ssword=[REDACTED]');
    expect(v('/v1/x?page=2&sort=name')).toBe('/v1/x?page=2&sort=name');
  });

  it('PEM private keys, terminated or not; certificates stay', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(v(`${cert}-----BEGIN EC PRIVATE KEY-----\nx1\n-----END EC PRIVATE KEY-----`)).toBe(`${cert}-----BEGIN EC PRIVATE KEY-----[REDACTED]-----END EC PRIVATE KEY-----`);
    expect(v('-----BEGIN PRIVATE KEY-----\nx2')).toBe('-----BEGIN PRIVATE KEY-----[REDACTED]');
    expect(v('-----BEGIN PGP PRIVATE KEY BLOCK-----\nx3\n-----END PGP PRIVATE KEY BLOCK-----')).toBe(
      '-----BEGIN PGP PRIVATE KEY BLOCK-----[REDACTED]-----END PGP PRIVATE KEY BLOCK-----',
    );
  });

  it('Redis commands: AUTH, HELLO, MIGRATE, ACL SETUSER, CONFIG SET, SENTINEL', () => {
    expect(v('AUTH x1')).toBe('AUTH [REDACTED]');
    expect(v('auth default x2')).toBe('auth default [REDACTED]');
    expect(v('HELLO 3 AUTH default x3 SETNAME app')).toBe('HELLO 3 AUTH default [REDACTED] SETNAME app');
    expect(v('MIGRATE h 6379 "" 0 5000 AUTH x4 KEYS a')).toBe('MIGRATE h 6379 "" 0 5000 AUTH [REDACTED] KEYS a');
    expect(v('MIGRATE h 6379 k 0 5000 AUTH2 u x5')).toBe('MIGRATE h 6379 k 0 5000 AUTH2 u [REDACTED]');
    expect(v('ACL SETUSER u on >x6 ~* +@all')).toBe('ACL SETUSER u on >[REDACTED] ~* +@all');
    expect(v('CONFIG SET maxmemory 1gb requirepass "x7"')).toBe('CONFIG SET maxmemory 1gb requirepass "[REDACTED]"');
    expect(v('SENTINEL SET mymaster auth-pass x8')).toBe('SENTINEL SET mymaster auth-pass [REDACTED]');
    expect(v('sentinel auth-pass mymaster x9')).toBe('sentinel auth-pass mymaster [REDACTED]');
    expect(v('ran: AUTH x10; then PING')).toBe('ran: AUTH [REDACTED]; then PING');
  });

  it('leaves prose that only mentions the words', () => {
    for (const s of ['auth failed for user bob', 'config reloaded', 'the acl list is empty', 'hello world', 'user bob logged in']) {
      expect(v(s), s).toBe(s);
    }
  });

  it('config values as redis.conf, CONFIG GET and redisctl print them', () => {
    expect(v('requirepass x1')).toBe('requirepass [REDACTED]');
    expect(v('1) "masterauth"\n2) "x2"')).toBe('1) "masterauth"\n2) "[REDACTED]"');
    expect(v('maxmemory: 0\nrequirepass: x3')).toBe('maxmemory: 0\nrequirepass: [REDACTED]');
    expect(v('user default on #x4 ~* &* +@all')).toBe('user default on #[REDACTED] ~* &* +@all');
  });

  it('command-line flags', () => {
    expect(v('redis-cli -h h -a x1 ping')).toBe('redis-cli -h h -a [REDACTED] ping');
    expect(v('ls -a /tmp')).toBe('ls -a /tmp');
    expect(v('tool --password x2 --api-key=x3 --verbose')).toBe('tool --password [REDACTED] --api-key=[REDACTED] --verbose');
    expect(v('tool --max-tokens 5')).toBe('tool --max-tokens 5');
    expect(v('curl -u ops:x4 https://h/')).toBe('curl -u ops:[REDACTED] https://h/');
    expect(v('curl --user ops https://h/')).toBe('curl --user ops https://h/');
  });

  it('JSON behind a BOM or a non-breaking space is redacted as JSON, the prefix kept', () => {
    expect(v('\ufeff{"password":"x1"}')).toBe('\ufeff{"password":"[REDACTED]"}');
    expect(v('\u00a0 [{"token":"x2"}]')).toBe('\u00a0 [{"token":"[REDACTED]"}]');
    expect(v('\ufeff{"password":"x3')).toBe(REDACTED);
  });

  it('is idempotent', () => {
    for (const s of ['AUTH default x1', 'requirepass x2', 'ACL SETUSER u >x3', '/v1?api_key=x4&a=1', '-----BEGIN PRIVATE KEY-----x5', 'redis-cli -a x6']) {
      const once = v(s) as string;
      expect(v(once), s).toBe(once);
    }
  });
});

describe('the mask seam', () => {
  it('writes every mask through one function, with the rule name and the secret', () => {
    const seen: [string, string][] = [];
    const keyed = new Redactor({
      observe: (rule, secret) => void seen.push([rule, typeof secret === 'string' ? secret : JSON.stringify(secret)]),
      mask: (secret) => `[H:${String(secret)}]`,
    });
    const out = keyed.redactValue({ password: 's1', url: 'redis://u:s2@h', note: 'AUTH s3', pem: '-----BEGIN PRIVATE KEY-----s4', bad: '{"a":"s5' });
    expect(out).toEqual({ password: '[H:s1]', url: 'redis://[H:u]:[H:s2]@h', note: 'AUTH [H:s3]', pem: '-----BEGIN PRIVATE KEY-----[H:s4]', bad: REDACTED });
    expect(seen).toEqual([
      ['sensitive_key', 's1'],
      ['url_credentials', 'u'],
      ['url_credentials', 's2'],
      ['redis_auth', 's3'],
      ['pem_private_key', 's4'],
      // What is withheld whole stays [REDACTED] with keyed masking, but is observed.
      ['unparseable_json', '{"a":"s5'],
    ]);
  });
});

describe('JSON-RPC batches and messages', () => {
  it('redactMessage gives each message of a batch the event rules', () => {
    const batch = JSON.parse('[{"jsonrpc":"2.0","id":1,"result":{"t":"x1"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"redis_config_set","arguments":{"parameter":"masterauth","value":"x2"}}},"x"]') as JsonValue;
    expect(r.redactMessage(batch)).toEqual([
      { jsonrpc: '2.0', id: 1, result: REDACTED },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'redis_config_set', arguments: { parameter: 'masterauth', value: REDACTED } } },
      'x',
    ]);
    // A response without the jsonrpc member is still a tool's output.
    expect(r.redactMessage({ id: 3, result: { text: 'x3' } })).toEqual({ id: 3, result: REDACTED });
    expect(r.redactMessage({ id: 4, error: { message: 'denied' } })).toEqual({ id: 4, error: { message: 'denied' } });
  });
});

describe('exact integers', () => {
  it('finds runs of 16 digits wherever they fall, and only those', () => {
    for (let at = 0; at < 20; at++) {
      const s = 'x'.repeat(at) + '1234567890123456' + 'y';
      expect(mayHoldBigInteger(s), `at ${at}`).toBe(true);
      expect(mayHoldBigInteger('x'.repeat(at) + '123456789012345' + 'y'), `15 at ${at}`).toBe(false);
    }
    expect(mayHoldBigInteger('2026-03-05T10:30:00.123456Z 9007199254740')).toBe(false);
  });

  it('parses and writes integers beyond 2^53 digit for digit, and nothing else differently', () => {
    const text = '{"a":18446744073709551615,"b":[-9223372036854775808,9007199254740993,9007199254740991,1.5e300,12345678901234567.5,0.10000000000000000555,1.0],"s":"18446744073709551615","__proto__":{"c":1},"d":1,"d":2}';
    const v = parseJson(text);
    // Numbers with 16 digits or more keep their text; the rest is JSON.parse's (1.5e300, 1.0).
    expect(stringifyJson(v)).toBe('{"a":18446744073709551615,"b":[-9223372036854775808,9007199254740993,9007199254740991,1.5e+300,12345678901234567.5,0.10000000000000000555,1],"s":"18446744073709551615","__proto__":{"c":1},"d":2}');
    expect(isJsonObject((v as JsonObject).a)).toBe(false);
    expect(stringifyJson(cloneJson(v))).toBe(stringifyJson(v));
    expect(() => parseJson('{"a":18446744073709551615')).toThrow(SyntaxError);
    // A string that looks like the marker is not turned into a number.
    expect(stringifyJson(parseJson('["~exact-0~1", 18446744073709551616]'))).toBe('["~exact-0~1",18446744073709551616]');
  });

  it('redaction keeps them exact in embedded JSON and masks them under a sensitive key', () => {
    const out = r.redactValue({ args: '{"id":18446744073709551615,"password":18446744073709551615}' }) as JsonObject;
    expect(out.args).toBe('{"id":18446744073709551615,"password":"[REDACTED]"}');
  });
});

describe('terminal escaping', () => {
  it('escapes control characters and escape sequences, keeps colour codes and tabs', () => {
    expect(escapeForTerminal('a\x1b[31mred\x1b[0m\tb')).toBe('a\x1b[31mred\x1b[0m\tb');
    expect(escapeForTerminal('\x1b]52;c;eA==\x07\r\x00\x7f\u009b\u202e')).toBe('\\x1b]52;c;eA==\\x07\\r\\x00\\x7f\\u009b\\u202e');
    expect(escapeForTerminal('plain ✓')).toBe('plain ✓');
    expect(escapeJsonForTerminal(JSON.stringify({ m: 'a\u009bb\u2066' }))).toBe('{"m":"a\\u009bb\\u2066"}');
  });
});

describe('Redis commands as arrays of strings, under any tool', () => {
  it('masks the secret operands by the command grammar', () => {
    expect(r.redactValue({ argv: ['AUTH', 'default', 'x1'] })).toEqual({ argv: ['AUTH', 'default', REDACTED] });
    expect(r.redactValue({ argv: ['auth', 'x2'] })).toEqual({ argv: ['auth', REDACTED] });
    expect(r.redactValue(['CONFIG', 'SET', 'requirepass', 'x3', 'maxmemory', '1gb'])).toEqual(['CONFIG', 'SET', 'requirepass', REDACTED, 'maxmemory', '1gb']);
    expect(r.redactValue(['ACL', 'SETUSER', 'u', 'on', '>x4'])).toEqual(['ACL', 'SETUSER', 'u', 'on', '>[REDACTED]']);
    expect(r.redactValue(['HELLO', '3', 'AUTH', 'u', 'x5'])).toEqual(['HELLO', '3', 'AUTH', 'u', REDACTED]);
    expect(r.redactValue(['GET', 'k'])).toEqual(['GET', 'k']);
    // An array in a command's place that does not have AUTH's shape fails closed on its first two operands.
    expect(r.redactValue(['auth', 'failed', 'for', 'bob'])).toEqual(['auth', REDACTED, REDACTED, 'bob']);
  });
});
