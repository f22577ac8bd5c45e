import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/util/json';
import { compileAuditValidator, eventFields, isJsonObjectLine, loadAuditValidator, mayBeAudit, Selector } from '../../../src/transforms/select';

const runtime = compileAuditValidator();
const precompiled = loadAuditValidator();
const selector = new Selector(precompiled);

const FIELDS = { event: 'tool_invocation', tool: 'create_enterprise_database', toolset: 'enterprise', result: 'success', duration_ms: 1200 };
const nested = (over: Record<string, unknown> = {}, fields: Record<string, unknown> = {}) =>
  ({ timestamp: '2026-03-05T10:30:00.123456Z', level: 'INFO', fields: { ...FIELDS, ...fields }, target: 'audit', ...over });
const flat = (over: Record<string, unknown> = {}) => ({ timestamp: '2026-03-05T10:30:00.123456Z', level: 'INFO', ...FIELDS, target: 'audit', ...over });

describe('selecting audit events', () => {
  it('accepts the nested `fields` layout, with or without arguments, span and spans', () => {
    for (const e of [
      nested(),
      nested({}, { arguments: '{"name":"cache-db"}' }),
      nested({ span: { name: 'mcp_session' }, spans: [{ name: 'mcp_session', session_id: 'a' }] }),
      nested({}, { event: 'tool_denied', result: 'denied', duration_ms: 0 }),
      nested({}, { event: 'tool_error', result: 'error', message: 'boom' }),
    ]) {
      const s = selector.selectJson(JSON.stringify(e));
      expect(s.kind, JSON.stringify(e)).toBe('audit');
    }
  });

  it('accepts the flatten_event(true) layout', () => {
    const s = selector.selectJson(JSON.stringify(flat({ arguments: '{}' })));
    expect(s.kind).toBe('audit');
    if (s.kind === 'audit') expect(eventFields(s.record)['tool']).toBe('create_enterprise_database');
  });

  it('rejects events that fail the schema, naming path and rule but never the value', () => {
    const cases: [unknown, string][] = [
      [nested({}, { duration_ms: 'slow-1234' }), 'fields.duration_ms: must be integer'],
      [nested({}, { event: 'tool_exploded' }), 'fields.event: must be equal to one of the allowed values'],
      [nested({}, { tool: undefined }), "fields: must have required property 'tool'"],
      [flat({ duration_ms: -1 }), 'duration_ms: must be >= 0'],
      [nested({ timestamp: '2026-13-05T10:30:00Z' }), 'timestamp: must match pattern'],
      [nested({ level: 'LOUD' }), 'level: must be equal to one of the allowed values'],
      [nested({ timestamp: 'secret-value-9' }), 'timestamp: must match pattern'],
    ];
    for (const [event, error] of cases) {
      const s = selector.selectJson(JSON.stringify(event));
      expect(s.kind).toBe('invalid');
      if (s.kind !== 'invalid') continue;
      expect(s.errors.some((e) => e.startsWith(error)), `${s.errors.join('; ')} should include ${error}`).toBe(true);
      expect(s.errors.join(' ')).not.toMatch(/slow-1234|secret-value-9/);
    }
  });

  it('decides by the parsed target, not by bytes: escaped "audit" counts, a near miss does not', () => {
    const escaped = JSON.stringify(nested()).replace('"target":"audit"', '"target":"\\u0061udit"');
    const line = Buffer.from(escaped);
    expect(mayBeAudit(line)).toBe(true);
    expect(selector.selectJson(escaped).kind).toBe('audit');
    expect(selector.selectJson(JSON.stringify(nested({ target: 'redisctl_mcp::audit' }))).kind).toBe('json');
    expect(selector.selectJson(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call' })).kind).toBe('json');
    expect(selector.selectJson('[1,2]').kind).toBe('json');
  });

  it('a line that does not parse is "unparseable" only when it looks like an audit event', () => {
    const full = JSON.stringify(nested());
    expect(selector.selectJson(full.slice(0, -5))).toEqual({ kind: 'unparseable', reason: 'not valid JSON' });
    expect(selector.selectJson('{"event":"tool_invocation","tool":')).toMatchObject({ kind: 'unparseable' });
    expect(selector.selectJson('{not json at all')).toEqual({ kind: 'text', text: '{not json at all' });
  });

  it('rules lines out from their bytes only when they cannot be audit events', () => {
    expect(isJsonObjectLine(Buffer.from('  {"a":1}'))).toBe(true);
    expect(isJsonObjectLine(Buffer.from('\u001b[2m2026-03-05T10:30:00Z\u001b[0m INFO x'))).toBe(false);
    expect(mayBeAudit(Buffer.from('{"jsonrpc":"2.0","id":1,"result":{}}'))).toBe(false);
    expect(mayBeAudit(Buffer.from('{"event":"tool_error"'))).toBe(true);
  });

  it('the precompiled validator (npm run build) agrees with the schema compiled at run time', () => {
    const samples: unknown[] = [
      nested(), flat(), nested({}, { duration_ms: 1.5 }), nested({ timestamp: '2026-03-05 10:30:00Z' }),
      nested({ timestamp: '2026-03-05T10:30:00+01:00' }), nested({ spans: 'x' }), nested({}, { arguments: 5 }),
      { target: 'audit' }, flat({ tool: '' }), nested({ fields: [] }),
    ];
    for (const s of samples) {
      expect(precompiled(s as JsonObject), JSON.stringify(s)).toBe(runtime(s as JsonObject));
    }
    expect(precompiled).not.toBe(runtime);
  });
});
