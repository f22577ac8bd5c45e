/**
 * Leak class 4: what --passthrough writes to the terminal. JSON-RPC batches get the JSON-RPC
 * rules; a line that starts like a JSON-RPC message but does not parse is withheld; MCP log
 * notifications are redacted as values; control bytes and escape sequences are escaped (terminal
 * injection); a NUL between a key and its value does not defeat masking.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Cases, probe, type Probe } from '../support/leak-probe';

const cases = new Cases();
cases.text('JSON-RPC batch of responses', (s) =>
  JSON.stringify([
    { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: `1) "requirepass"\n2) "${s('b1')}"` }] } },
    { jsonrpc: '2.0', id: 2, result: s('b2') },
    { jsonrpc: '2.0', id: 3, error: { code: -32007, message: 'denied by policy' } },
  ]),
);
cases.text('JSON-RPC batch of tools/call requests', (s) =>
  JSON.stringify([
    { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'redis_command', arguments: { command: 'AUTH', args: ['default', s('b3')] } } },
    { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'redis_config_set', arguments: { parameter: 'masterauth', value: s('b4') } } },
  ]),
);
cases.text('truncated JSON-RPC response', (s) => `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"requirepass ${s('t1')}`);
cases.text('truncated JSON-RPC response, id first', (s) => `{"id":8,"jsonrpc":"2.0","result":"${s('t2')}`);
cases.text('truncated JSON-RPC batch', (s) => `  [{"jsonrpc":"2.0","id":9,"result":{"text":"${s('t3')}"}},{"jsonrpc":"2.0"`);
cases.text('JSON-RPC with an escaped member name, truncated', (s) => `{"\\u006asonrpc":"2.0","id":10,"result":"${s('t4')}`);
cases.text('notifications/message with a string', (s) =>
  JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', logger: 'redis', data: `connected AUTH default ${s('n1')} password=${s('n2')}` } }),
);
cases.text('notifications/message with an object', (s) =>
  JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'debug', data: { msg: `Authorization: Bearer ${s('n3')}`, config: { requirepass: s('n4') } } } }),
);
cases.text('notifications/message with JSON text as data', (s) =>
  JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'debug', data: `\u00a0{"masterauth":"${s('n5')}"}` } }),
);
cases.text('NUL between key and separator', (s) => `login password\u0000=${s('nul1')} ok`);
cases.text('NUL between separator and value', (s) => `login token=\u0000${s('nul2')} ok`);
cases.text('NUL inside the key', (s) => `login pass\u0000word=${s('nul3')} ok`);
cases.text('terminal escapes', () => 'title \x1b]0;owned\x07 clip \x1b]52;c;aGVsbG8=\x07 clear \x1b[2J\x1b[H bell \x07 cr \rhidden \x9b31m c1 \u202eevil');
cases.text('colours stay', () => '\x1b[2m2026-03-05T10:30:00Z\x1b[0m \x1b[32m INFO\x1b[0m ok');
cases.text('control bytes in a JSON line', () => JSON.stringify({ level: 'INFO', fields: { message: 'a\u009b2Jb\u007fc\u202ed' }, target: 'x' }));

describe('leak class 4: passthrough', () => {
  let p: Probe;
  beforeAll(async () => {
    p = await probe(cases);
  });
  const line = (name: string) => p.passedText(cases.texts.findIndex((c) => c.name === name));

  it('leaks no planted secret anywhere', () => {
    expect(p.leaks()).toEqual([]);
  });

  it('gives each message of a JSON-RPC batch the JSON-RPC rules', () => {
    expect(JSON.parse(line('JSON-RPC batch of responses'))).toEqual([
      { jsonrpc: '2.0', id: 1, result: '[REDACTED]' },
      { jsonrpc: '2.0', id: 2, result: '[REDACTED]' },
      { jsonrpc: '2.0', id: 3, error: { code: -32007, message: 'denied by policy' } },
    ]);
    const calls = JSON.parse(line('JSON-RPC batch of tools/call requests'));
    expect(calls[0].params.arguments).toEqual({ command: 'AUTH', args: ['[REDACTED]', '[REDACTED]'] });
    expect(calls[1].params.arguments).toEqual({ parameter: 'masterauth', value: '[REDACTED]' });
  });

  it('withholds a line that starts like a JSON-RPC message but does not parse', () => {
    for (const name of ['truncated JSON-RPC response', 'truncated JSON-RPC response, id first', 'truncated JSON-RPC batch', 'JSON-RPC with an escaped member name, truncated']) {
      expect(line(name), name).toBe('[REDACTED]');
    }
  });

  it('redacts notifications/message data as a value', () => {
    const obj = JSON.parse(line('notifications/message with an object'));
    expect(obj.params.data).toEqual({ msg: 'Authorization: Bearer [REDACTED]', config: { requirepass: '[REDACTED]' } });
    const str = JSON.parse(line('notifications/message with a string'));
    // In free text AUTH's arity is unknown: both words after it are masked.
    expect(str.params.data).toBe('connected AUTH [REDACTED] [REDACTED] password=[REDACTED]');
  });

  it('escapes control bytes and escape sequences, keeping colour codes', () => {
    const esc = line('terminal escapes');
    // No raw control character reaches the terminal, and nothing is dropped.
    expect(esc).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    expect(esc).toBe('title \\x1b]0;owned\\x07 clip \\x1b]52;c;aGVsbG8=\\x07 clear \\x1b[2J\\x1b[H bell \\x07 cr \\rhidden \\u009b31m c1 \\u202eevil');
    expect(line('colours stay')).toBe('\x1b[2m2026-03-05T10:30:00Z\x1b[0m \x1b[32m INFO\x1b[0m ok');
    const json = line('control bytes in a JSON line');
    expect(json).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(JSON.parse(json).fields.message).toBe('a\u009b2Jb\u007fc\u202ed');
  });

  it('masks despite a NUL between a key and its value, and shows the NUL escaped', () => {
    expect(line('NUL between key and separator')).toBe('login password\\x00=[REDACTED] ok');
    expect(line('NUL between separator and value')).toBe('login token=\\x00[REDACTED] ok');
    expect(line('NUL inside the key')).toBe('login pass\\x00word=[REDACTED] ok');
  });
});
