#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Deterministic generator of realistic `redisctl-mcp 2>&1` streams with known ground truth.
 *
 * One source of test and benchmark input: every line comes with a `truth` saying what it is
 * (a valid audit event and its position, a schema-invalid or truncated audit event, an ANSI
 * tracing text line, a JSON-RPC message, a non-audit tracing JSON line, hostile garbage) and
 * which planted secrets it carries, which audit-router must never let out.
 *
 * What the lines look like, and why:
 * - Audit events follow redisctl-mcp's audit layer: `tracing::info!(target: "audit", event,
 *   tool, toolset, result, duration_ms, arguments)` written by tracing-subscriber's Json
 *   formatter: keys timestamp, level, fields{...}, target, then span / spans when the event
 *   happened inside spans (`with_current_span` / `with_span_list`). `flatten_event(true)` puts
 *   the fields at the top level between level and target. `arguments` is a JSON *string*.
 * - Every valid audit event has `duration_ms == seq` (its 0-based index among valid audit
 *   events), so order and exactly-once delivery can be checked from the output alone.
 * - Timestamps are RFC 3339 with microseconds, strictly increasing over the whole stream.
 * - Text lines use tracing's default ANSI format: dimmed timestamp, coloured 5-wide level,
 *   bold span context, dimmed target, italic field names and dimmed `=`. String values given
 *   with `?` are Debug-quoted (password="..."), values given with `%` are not (url=redis://...).
 * - Secrets are `<prefix><8 hex from the PRNG><8 hex counter>`: unique in the stream, made
 *   only of [A-Za-z0-9_-] so they appear verbatim whatever the JSON escaping depth.
 *
 * Bytes: every line is UTF-8 text except kind 'garbage', whose string is binary (each char
 * code 0..255 is one byte, i.e. latin1). `lineToBuffer` / `writeStream` encode accordingly.
 *
 * CLI: node bench/generate.js --scenario mixed|audit --lines 1000000 --seed 42 [--out file]
 *      [--hostile] [--no-ansi] [--policy-fields a,b] [--audit-ratio r] [--args-ratio r]
 *      [--secret-ratio r] [--flat-ratio r] [--invalid-ratio r] [--truth truth.jsonl]
 */

const fs = require('node:fs');

/** @typedef {'audit'|'audit_invalid'|'audit_unparseable'|'text'|'jsonrpc'|'json_log'|'garbage'} LineKind */
/**
 * seq: for kind 'audit', the 0-based index among valid audit events, in stream order.
 * secrets: every planted secret the line carries (each occurs verbatim in the line).
 * placements: how each secret was planted (parallel to `secrets`), for diagnosing a leak.
 * @typedef {{ kind: LineKind, seq?: number, secrets: string[], placements?: string[] }} LineTruth
 */
/**
 * @typedef {{ seed?: number, lines: number, scenario?: 'mixed'|'audit', auditRatio?: number,
 *   argsRatio?: number, secretRatio?: number, flatRatio?: number, invalidRatio?: number,
 *   hostile?: boolean, ansi?: boolean, policyFields?: string[] }} GenerateOptions
 */
/** @typedef {{ line: string, truth: LineTruth }} GeneratedLine */
/** @typedef {() => number} Rand */
/** @typedef {{ [key: string]: unknown }} Obj */

/**
 * The seeded PRNG (mulberry32): returns floats in [0, 1).
 * @param {number} seed
 * @returns {Rand}
 */
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (realistic redisctl-mcp names; nothing here is secret)
// ---------------------------------------------------------------------------------------------

/**
 * Keys audit-router must treat as sensitive. Each normalises (lowercase, alphanumerics only) to
 * a name in redisctl-mcp's built-in ALWAYS_REDACT_FIELDS list, in the spellings agents send.
 */
const SENSITIVE_KEYS = [
  'password', 'db_password', 'dbPassword', 'api_key', 'apiKey', 'API-KEY', 'Secret-Key',
  'secret_key', 'api_secret', 'access_secret_key', 'accessSecretKey', 'client_secret',
  'console_password', 'bind_pass', 'license_key', 'private_key', 'refresh_token', 'token',
  'access_token', 'accessToken', 'credential', 'global_password', 'secret',
];
/** Hand-escaped spellings of sensitive keys: raw JSON key text → what it decodes to. */
const ESCAPED_KEYS = [
  '"pass\\u0077ord"', '"api\\u005fkey"', '"\\u0074oken"', '"se\\u0063ret"', '"PASS\\u0057ORD"',
];
const SECRET_PREFIXES = ['sk-', 'pw-', 'tok_', 'S3cr3t'];
const PROFILES = ['prod-cloud', 'staging-cloud', 'ent-lab', 'ent-prod', 'local-cache', 'default'];
const DB_NAMES = ['cache-db', 'sessions', 'rate-limiter', 'orders-v2', 'feature-flags', 'leaderboard', 'café-menu'];
const REDIS_HOSTS = [
  'redis-16379.c1.us-east1-2.gce.cloud.redislabs.com:16379',
  'redis-12000.cluster.ent.internal:12000',
  '10.0.3.17:6379',
  'cache.internal.example.com:6380',
  '[::1]:6380',
  '[2001:db8::17]:6379',
];
const REDIS_KEYS = ['user:1042', 'session:7f3a', 'cart:88', 'rate:api:203.0.113.9', 'cfg:flags', 'queue:emails', 'lb:weekly'];
const SPAN_NAMES = ['request', 'call_tool', 'session', 'mcp_session'];
const LEVEL_ANSI = /** @type {const} */ ({
  TRACE: '\x1b[35mTRACE\x1b[0m', DEBUG: '\x1b[34mDEBUG\x1b[0m', INFO: '\x1b[32m INFO\x1b[0m',
  WARN: '\x1b[33m WARN\x1b[0m', ERROR: '\x1b[31mERROR\x1b[0m',
});
const LEVEL_PLAIN = /** @type {const} */ ({ TRACE: 'TRACE', DEBUG: 'DEBUG', INFO: ' INFO', WARN: ' WARN', ERROR: 'ERROR' });

const q = JSON.stringify;

// ---------------------------------------------------------------------------------------------
// Generator state
// ---------------------------------------------------------------------------------------------

class Stream {
  /** @param {Required<Omit<GenerateOptions, 'seed'|'lines'|'scenario'>> & { seed: number }} o */
  constructor(o) {
    this.o = o;
    this.rand = mulberry32(o.seed);
    /** Microseconds since the epoch; starts 2026-03-05T10:30:00Z and only grows. */
    this.tUs = Date.UTC(2026, 2, 5, 10, 30, 0) * 1000 + Math.floor(this.rand() * 1e6);
    this.cachedSec = -1;
    this.cachedPrefix = '';
    this.seq = 0;
    this.secretCount = 0;
    this.rpcId = 1;
    /** @type {string[]} */ this.secrets = [];
    /** @type {string[]} */ this.placements = [];
    /** Secret-free `arguments` values per tool (see argumentsField). @type {Map<Tool, string[]>} */
    this.pools = new Map();
  }

  /** @param {number} n @returns {number} integer in [0, n) */
  int(n) { return Math.floor(this.rand() * n); }
  /** @param {number} p */
  chance(p) { return this.rand() < p; }
  /**
   * @template T
   * @param {readonly T[]} a
   * @returns {T}
   */
  pick(a) { return a[Math.floor(this.rand() * a.length)]; }
  hex8() { return ((this.rand() * 4294967296) >>> 0).toString(16).padStart(8, '0'); }

  /** The next timestamp, RFC 3339 UTC with microseconds, strictly after the previous one. */
  ts() {
    this.tUs += 1 + this.int(1500);
    const sec = Math.floor(this.tUs / 1e6);
    if (sec !== this.cachedSec) {
      this.cachedSec = sec;
      this.cachedPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
    }
    return `${this.cachedPrefix}.${String(this.tUs % 1e6).padStart(6, '0')}Z`;
  }

  /** A fresh unique secret, recorded for the current line under `placement`. @param {string} placement */
  secret(placement) {
    const s = this.pick(SECRET_PREFIXES) + this.hex8() + (this.secretCount++ >>> 0).toString(16).padStart(8, '0');
    this.secrets.push(s);
    this.placements.push(placement);
    return s;
  }

  /**
   * The truth of the line just built, taking the secrets planted since the last call.
   * @param {LineKind} kind @param {number} [seq] @returns {LineTruth}
   */
  truth(kind, seq) {
    const secrets = this.secrets;
    const placements = this.placements;
    if (secrets.length > 0) {
      this.secrets = [];
      this.placements = [];
    }
    // Empty arrays are fresh per line so a consumer may keep or change them.
    return seq === undefined
      ? { kind, secrets: secrets.length > 0 ? secrets : [], placements: placements.length > 0 ? placements : [] }
      : { kind, seq, secrets: secrets.length > 0 ? secrets : [], placements: placements.length > 0 ? placements : [] };
  }

  /** A redis URL with credentials in it (userinfo or query), planting one secret. */
  secretUrl() {
    const host = this.pick(REDIS_HOSTS);
    switch (this.int(5)) {
      case 0: return `redis://default:${this.secret('url_userinfo')}@${host}/0`;
      case 1: return `rediss://:${this.secret('url_userinfo')}@${host}`;
      case 2: return `redis://app-user:${this.secret('url_userinfo')}@[::1]:6380/2?protocol=resp3`;
      case 3: return `redis+unix:///tmp/redis.sock?db=2&password=${this.secret('url_query')}`;
      default: return `rediss://svc-${this.int(90)}:${this.secret('url_userinfo')}@${host}/${this.int(16)}`;
    }
  }

  cleanUrl() {
    return this.chance(0.5) ? `redis://${this.pick(REDIS_HOSTS)}/${this.int(16)}` : `rediss://${this.pick(REDIS_HOSTS)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Tools and their arguments
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {{ name: string, toolset: string, weight: number, deniable?: boolean,
 *   args: (s: Stream) => Obj, secretKey?: string,
 *   plantOperand?: (s: Stream) => Obj }} Tool
 */

/** @type {Tool[]} */
const TOOLS = [
  // cloud
  { name: 'list_subscriptions', toolset: 'cloud', weight: 6, args: (s) => ({ profile: s.pick(PROFILES) }) },
  { name: 'get_subscription', toolset: 'cloud', weight: 3, args: (s) => ({ subscription_id: 100000 + s.int(90000) }) },
  { name: 'list_databases', toolset: 'cloud', weight: 8, args: (s) => ({ subscription_id: 100000 + s.int(90000), profile: s.pick(PROFILES) }) },
  { name: 'get_database', toolset: 'cloud', weight: 5, args: (s) => ({ subscription_id: 100000 + s.int(90000), database_id: 1000 + s.int(9000) }) },
  {
    name: 'create_database', toolset: 'cloud', weight: 2, secretKey: 'password',
    args: (s) => ({ subscription_id: 100000 + s.int(90000), name: s.pick(DB_NAMES), memory_limit_in_gb: 1 + s.int(8), protocol: 'redis', replication: s.chance(0.5), data_persistence: 'aof-every-1-second' }),
  },
  { name: 'backup_database', toolset: 'cloud', weight: 2, args: (s) => ({ subscription_id: 100000 + s.int(90000), database_id: 1000 + s.int(9000) }) },
  { name: 'flush_database', toolset: 'cloud', weight: 1, deniable: true, args: (s) => ({ subscription_id: 100000 + s.int(90000), database_id: 1000 + s.int(9000) }) },
  { name: 'delete_database', toolset: 'cloud', weight: 1, deniable: true, args: (s) => ({ subscription_id: 100000 + s.int(90000), database_id: 1000 + s.int(9000) }) },
  {
    name: 'create_cloud_account', toolset: 'cloud', weight: 1, secretKey: 'access_secret_key',
    args: (s) => ({ name: `aws-${s.pick(['prod', 'dev', 'sandbox'])}`, provider: 'AWS', access_key_id: `AKIA${s.hex8().toUpperCase()}`, console_username: 'redis-ops', sign_in_login_url: 'https://123456789012.signin.aws.amazon.com/console' }),
  },
  {
    name: 'cloud_raw_api', toolset: 'cloud', weight: 1, deniable: true,
    args: (s) => ({ method: s.pick(['GET', 'POST', 'PUT']), path: `/v1/subscriptions/${100000 + s.int(90000)}/databases`, body: { name: s.pick(DB_NAMES), datasetSizeInGb: 1 } }),
  },
  // enterprise
  { name: 'get_cluster', toolset: 'enterprise', weight: 5, args: (s) => ({ profile: s.pick(PROFILES) }) },
  { name: 'list_enterprise_databases', toolset: 'enterprise', weight: 6, args: (s) => (s.chance(0.5) ? { name_filter: s.pick(DB_NAMES) } : { status_filter: 'active' }) },
  { name: 'get_enterprise_database', toolset: 'enterprise', weight: 4, args: (s) => ({ uid: 1 + s.int(40) }) },
  {
    name: 'create_enterprise_database', toolset: 'enterprise', weight: 3, secretKey: 'password',
    args: (s) => ({ name: s.pick(DB_NAMES), memory_size: 1073741824 * (1 + s.int(4)), redis_version: '7.4', replication: s.chance(0.6), persistence: s.pick(['aof', 'snapshot', 'disabled']), eviction_policy: s.pick(['noeviction', 'allkeys-lru', 'volatile-lru']) }),
  },
  { name: 'update_enterprise_database', toolset: 'enterprise', weight: 2, args: (s) => ({ uid: 1 + s.int(40), updates: { memory_size: 2147483648, replication: true } }) },
  { name: 'backup_enterprise_database', toolset: 'enterprise', weight: 2, args: (s) => ({ bdb_uid: 1 + s.int(40), timeout_seconds: 600 }) },
  { name: 'flush_enterprise_database', toolset: 'enterprise', weight: 1, deniable: true, args: (s) => ({ bdb_uid: 1 + s.int(40) }) },
  { name: 'delete_enterprise_database', toolset: 'enterprise', weight: 1, deniable: true, args: (s) => ({ uid: 1 + s.int(40) }) },
  { name: 'import_enterprise_database', toolset: 'enterprise', weight: 1, args: (s) => ({ bdb_uid: 1 + s.int(40), import_location: `s3://backups/${s.pick(DB_NAMES)}.rdb`, flush: false }) },
  {
    name: 'create_enterprise_user', toolset: 'enterprise', weight: 1, secretKey: 'password',
    args: (s) => ({ email: `ops${s.int(50)}@example.com`, name: `ops-${s.int(50)}`, role: s.pick(['db_viewer', 'db_member', 'cluster_viewer']) }),
  },
  { name: 'enterprise_raw_api', toolset: 'enterprise', weight: 1, deniable: true, args: (s) => ({ method: 'GET', path: `/v1/bdbs/${1 + s.int(40)}/stats/last` }) },
  // database
  {
    name: 'redis_command', toolset: 'database', weight: 6, deniable: true,
    args: (s) => s.pick([
      () => ({ command: 'GET', args: [s.pick(REDIS_KEYS)] }),
      () => ({ command: 'INFO', args: ['memory'] }),
      () => ({ command: 'DBSIZE', args: [] }),
      () => ({ command: 'SCAN', args: ['0', 'MATCH', 'user:*', 'COUNT', '100'], profile: s.pick(PROFILES) }),
    ])(),
    plantOperand: (s) => s.pick([
      () => ({ command: 'AUTH', args: ['default', s.secret('redis_command_operand')] }),
      () => ({ command: 'SET', args: [s.pick(REDIS_KEYS), s.secret('redis_command_operand')], profile: s.pick(PROFILES) }),
      () => ({ command: 'CONFIG', args: ['SET', 'requirepass', s.secret('redis_command_operand')], dry_run: true }),
      () => ({ command: 'HSET', args: [s.pick(REDIS_KEYS), 'api_token', s.secret('redis_command_operand')], url: s.cleanUrl() }),
    ])(),
  },
  {
    name: 'redis_bulk_load', toolset: 'database', weight: 3,
    args: (s) => ({ commands: [{ args: ['SET', s.pick(REDIS_KEYS), 'v1'] }, { args: ['ZADD', 'lb:weekly', '1.5', 'player-7'] }], batch_size: 500 }),
    plantOperand: (s) => ({
      commands: [
        { args: ['HSET', s.pick(REDIS_KEYS), 'name', 'Ada'] },
        { args: ['SET', 'cfg:upstream_token', s.secret('redis_bulk_load_operand')] },
        { args: ['JSON.SET', 'doc:1', '$', '{"name":"Alice","age":30}'] },
      ],
      batch_size: 1000,
      collect_results: s.chance(0.3),
    }),
  },
  {
    name: 'redis_alias_set', toolset: 'database', weight: 2,
    args: (s) => ({ name: 'health-check', commands: [{ args: ['PING'] }, { args: ['INFO', 'replication'] }, { args: ['GET', s.pick(REDIS_KEYS)] }] }),
    plantOperand: (s) => ({
      name: 'rotate-app-user',
      commands: [
        { args: ['ACL', 'SETUSER', 'svc-app', 'on', `>${s.secret('redis_alias_set_operand')}`, '~app:*', '+@read'] },
        { args: ['SET', 'cfg:rotated_at', '2026-03-05'] },
      ],
    }),
  },
  { name: 'redis_alias_run', toolset: 'database', weight: 1, args: () => ({ name: 'health-check' }) },
  { name: 'redis_get', toolset: 'database', weight: 8, args: (s) => ({ key: s.pick(REDIS_KEYS) }) },
  { name: 'redis_set', toolset: 'database', weight: 3, args: (s) => ({ key: s.pick(REDIS_KEYS), value: `v-${s.int(1000)}`, ex: 3600 }) },
  { name: 'redis_keys', toolset: 'database', weight: 3, args: () => ({ pattern: 'user:*', limit: 100 }) },
  { name: 'redis_info', toolset: 'database', weight: 4, args: (s) => ({ section: s.pick(['memory', 'clients', 'stats', 'replication']) }) },
  // app
  { name: 'list_profiles', toolset: 'app', weight: 2, args: () => ({}) },
  { name: 'show_policy', toolset: 'app', weight: 1, args: () => ({}) },
  { name: 'list_available_tools', toolset: 'app', weight: 1, args: () => ({}) },
];
const TOOL_TABLE = (() => {
  /** @type {Tool[]} */ const t = [];
  for (const tool of TOOLS) for (let i = 0; i < tool.weight; i++) t.push(tool);
  return t;
})();
const DENIABLE = TOOLS.filter((t) => t.deniable);

/**
 * Plant one or more secrets into `args` (mutated) and return the arguments JSON text.
 * Placements that need raw text (escaped keys, duplicate keys, __proto__) splice it in.
 * `parseSafe` restricts to placements a field-name or URL rule catches without knowing the
 * tool (for events whose tool is missing or that do not parse).
 * @param {Stream} s @param {Tool} tool @param {Obj} args @param {boolean} parseSafe
 * @returns {string}
 */
function plantArgs(s, tool, args, parseSafe) {
  const hostile = s.o.hostile;
  const policy = s.o.policyFields;
  const r = s.rand();
  if (parseSafe) {
    if (r < 0.5) args[tool.secretKey ?? s.pick(SENSITIVE_KEYS)] = s.secret('sensitive_key');
    else if (r < 0.8) args.url = s.secretUrl();
    else args.config = { credentials: { username: 'admin', [s.pick(SENSITIVE_KEYS)]: s.secret('nested_key') } };
    return q(args);
  }
  if (tool.plantOperand && r < 0.6) return q(tool.plantOperand(s));
  const w = s.rand();
  if (policy.length > 0 && w < 0.12) {
    args[s.pick(policy)] = s.secret('policy_field');
    return q(args);
  }
  if (hostile && w < 0.2) {
    return splice(q(args), `"__proto__":{"password":${q(s.secret('proto_key'))},"polluted":true},"constructor":{"prototype":{"token":${q(s.secret('proto_key'))}}}`);
  }
  switch (s.int(9)) {
    case 0: case 1:
      args[tool.secretKey ?? s.pick(SENSITIVE_KEYS)] = s.secret('sensitive_key');
      return q(args);
    case 2:
      args.config = { tls: true, credentials: { username: 'admin', [s.pick(SENSITIVE_KEYS)]: s.secret('nested_key') } };
      if (s.chance(0.4)) args.auth = { credential: { kind: 'static', value: s.secret('sensitive_object') } };
      return q(args);
    case 3:
      args.users = [{ name: 'svc-reader', role: 'db_viewer' }, { name: 'svc-writer', role: 'db_member', [s.pick(SENSITIVE_KEYS)]: s.secret('array_of_objects') }];
      return q(args);
    case 4:
      args.payload = q({ source: 'agent', auth: { [s.pick(SENSITIVE_KEYS)]: s.secret('json_in_string') }, ttl: 60 });
      return q(args);
    case 5: case 6:
      args[s.pick(['url', 'database_url', 'endpoint', 'source_uri'])] = s.secretUrl();
      return q(args);
    case 7:
      return splice(q(args), `${s.pick(ESCAPED_KEYS)}:${q(s.secret('escaped_key'))}`);
    default: {
      const key = q(s.pick(SENSITIVE_KEYS));
      return splice(q(args), `${key}:${q(s.secret('duplicate_key'))},"region":"us-east-1",${key}:${q(s.secret('duplicate_key'))}`);
    }
  }
}

/** Insert `members` (raw JSON object members) before the closing brace of object text `obj`. */
function splice(/** @type {string} */ obj, /** @type {string} */ members) {
  return obj.length === 2 ? `{${members}}` : `${obj.slice(0, -1)},${members}}`;
}

const POOL_SIZE = 64;

/**
 * The `arguments` field value of one audit event, already a JSON string literal (the argument
 * JSON text, escaped once more). Secret-free arguments come from a per-tool pool of variants
 * built on first use: stringifying twice per event is most of the generator's cost otherwise.
 * @param {Stream} s @param {Tool} tool @param {boolean} parseSafe
 */
function argumentsField(s, tool, parseSafe) {
  if (s.chance(s.o.secretRatio)) return q(plantArgs(s, tool, tool.args(s), parseSafe));
  if (s.o.hostile && s.chance(0.05)) {
    const args = tool.args(s);
    args.note = s.pick(['naïve café ☕', 'line\u2028separator', 'tab\tand "quotes"', '\u0000nul']);
    return q(q(args));
  }
  let pool = s.pools.get(tool);
  if (pool === undefined) {
    pool = [];
    for (let i = 0; i < POOL_SIZE; i++) pool.push(q(q(tool.args(s))));
    s.pools.set(tool, pool);
  }
  return pool[s.int(POOL_SIZE)];
}

// ---------------------------------------------------------------------------------------------
// Audit events
// ---------------------------------------------------------------------------------------------

/** @param {Stream} s @returns {string} `,"span":...,"spans":[...]` or '' */
function spanPart(s) {
  const r = s.rand();
  if (r >= 0.2) return '';
  const sessionSpan = `{"session_id":"${s.hex8()}","name":"mcp_session"}`;
  const requestSpan = `{"id":${s.int(5000)},"method":"tools/call","name":"${s.pick(SPAN_NAMES)}"}`;
  if (r < 0.1) return `,"span":${requestSpan},"spans":[${sessionSpan},${requestSpan}]`;
  if (r < 0.15) return `,"span":${requestSpan}`;
  return `,"spans":[${sessionSpan},${requestSpan}]`;
}

/**
 * Lay out one tracing JSON event from its fields (raw JSON member text).
 * @param {string} ts @param {string} level @param {string} fields @param {string} target
 * @param {boolean} flat @param {string} spans
 */
function tracingJson(ts, level, fields, target, flat, spans) {
  return flat
    ? `{"timestamp":"${ts}","level":"${level}",${fields},"target":${q(target)}${spans}}`
    : `{"timestamp":"${ts}","level":"${level}","fields":{${fields}},"target":${q(target)}${spans}}`;
}

/** @param {Stream} s */
function pickOutcome(s) {
  const r = s.rand();
  if (r < 0.85) return { tool: s.pick(TOOL_TABLE), event: 'tool_invocation', result: 'success' };
  if (r < 0.93) return { tool: s.pick(DENIABLE), event: 'tool_denied', result: 'denied' };
  return { tool: s.pick(TOOL_TABLE), event: 'tool_error', result: 'error' };
}

/** A valid audit event; consumes the next seq. @param {Stream} s @returns {GeneratedLine} */
function auditLine(s) {
  const { tool, event, result } = pickOutcome(s);
  const seq = s.seq++;
  let fields = `"event":"${event}","tool":"${tool.name}","toolset":"${tool.toolset}","result":"${result}","duration_ms":${seq}`;
  if (s.chance(s.o.argsRatio)) fields += `,"arguments":${argumentsField(s, tool, false)}`;
  if (event === 'tool_error' && s.chance(0.2)) fields += `,"message":${q(s.pick(['tool call failed', 'upstream API returned 503', 'timed out after 30s']))}`;
  const line = tracingJson(s.ts(), 'INFO', fields, 'audit', s.chance(s.o.flatRatio), spanPart(s));
  return { line, truth: s.truth('audit', seq) };
}

/** Parses, has target "audit", fails the schema. Consumes no seq. @param {Stream} s @returns {GeneratedLine} */
function auditInvalidLine(s) {
  const { tool, event, result } = pickOutcome(s);
  const args = s.chance(0.7) ? `,"arguments":${argumentsField(s, tool, true)}` : '';
  const duration = s.int(3000);
  let ts = s.ts();
  let fields;
  switch (s.int(6)) {
    case 0: fields = `"event":"${event}","tool":"${tool.name}","toolset":"${tool.toolset}","result":"${result}","duration_ms":"${duration}"${args}`; break;
    case 1: fields = `"event":"${event}","toolset":"${tool.toolset}","result":"${result}","duration_ms":${duration}${args}`; break;
    case 2: fields = `"event":"tool_exploded","tool":"${tool.name}","toolset":"${tool.toolset}","result":"${result}","duration_ms":${duration}${args}`; break;
    case 3: fields = `"event":"${event}","tool":"${tool.name}","toolset":"${tool.toolset}","result":"${result}","duration_ms":-${1 + duration}${args}`; break;
    case 4: {
      // `arguments` as an object instead of a JSON string.
      const obj = args ? JSON.parse(JSON.parse(args.slice(13))) : {};
      fields = `"event":"${event}","tool":"${tool.name}","toolset":"${tool.toolset}","result":"${result}","duration_ms":${duration},"arguments":${q(obj)}`;
      break;
    }
    default:
      // A timestamp that is not RFC 3339 (tracing's old ChronoLocal-like look).
      ts = `Mar 05 ${ts.slice(11, 23)}`;
      fields = `"event":"${event}","tool":"${tool.name}","toolset":"${tool.toolset}","result":"${result}","duration_ms":${duration}${args}`;
  }
  const line = tracingJson(ts, 'INFO', fields, 'audit', s.chance(s.o.flatRatio), '');
  return { line, truth: s.truth('audit_invalid') };
}

/**
 * An audit event cut mid-line (as by a crash or a pipe closed mid-write). The cut falls after
 * every planted secret, so each recorded secret is whole in the line. Consumes no seq.
 * @param {Stream} s @returns {GeneratedLine}
 */
function auditUnparseableLine(s) {
  const { tool, event, result } = pickOutcome(s);
  const fields = `"event":"${event}","tool":"${tool.name}","toolset":"${tool.toolset}","result":"${result}","duration_ms":${s.int(3000)},"arguments":${argumentsField(s, tool, true)}`;
  const full = tracingJson(s.ts(), 'INFO', fields, 'audit', s.chance(s.o.flatRatio), '');
  let min = 16;
  for (const secret of s.secrets) min = Math.max(min, full.indexOf(secret) + secret.length);
  const cut = min + s.int(Math.max(1, full.length - 1 - min));
  return { line: full.slice(0, cut), truth: s.truth('audit_unparseable') };
}

// ---------------------------------------------------------------------------------------------
// ANSI tracing text (tracing-subscriber's default Full format)
// ---------------------------------------------------------------------------------------------

/**
 * @param {Stream} s @param {keyof typeof LEVEL_ANSI} level @param {string} target @param {string} message
 * @param {[string, string][]} fields rendered values (Debug-quoted or Display) @param {string} [span]
 */
function textLine(s, level, target, message, fields, span) {
  const ansi = s.o.ansi;
  let out = ansi ? `\x1b[2m${s.ts()}\x1b[0m ${LEVEL_ANSI[level]} ` : `${s.ts()} ${LEVEL_PLAIN[level]} `;
  if (span) out += ansi ? `\x1b[1m${span}\x1b[0m\x1b[1m{\x1b[0m\x1b[3mtool\x1b[0m\x1b[2m=\x1b[0m"${s.pick(TOOLS).name}"\x1b[1m}\x1b[0m\x1b[2m:\x1b[0m ` : `${span}{tool="${s.pick(TOOLS).name}"}: `;
  out += ansi ? `\x1b[2m${target}\x1b[0m\x1b[2m:\x1b[0m ${message}` : `${target}: ${message}`;
  for (const [k, v] of fields) out += ansi ? ` \x1b[3m${k}\x1b[0m\x1b[2m=\x1b[0m${v}` : ` ${k}=${v}`;
  return out;
}

/** @param {Stream} s @param {boolean} withSecret @returns {string} */
function randomText(s, withSecret) {
  if (withSecret) {
    switch (s.int(5)) {
      case 0: return textLine(s, 'DEBUG', 'redisctl_mcp::tools::redis', 'opening connection', [['profile', q(s.pick(PROFILES))], ['url', s.secretUrl()]]);
      case 1: return textLine(s, 'WARN', 'redisctl_core::config', 'profile credentials loaded from plaintext config', [['profile', q(s.pick(PROFILES))], ['username', '"admin@example.com"'], ['password', q(s.secret('text_password'))]]);
      case 2: return textLine(s, 'DEBUG', 'redis_enterprise::client', 'authenticating', [['endpoint', '"https://cluster.ent.internal:9443"'], ['token', s.secret('text_token')]], 'request');
      case 3: return textLine(s, 'ERROR', 'redisctl_mcp::tools::redis', `connection refused for ${s.secretUrl()}`, [['attempt', String(1 + s.int(3))]]);
      default: return textLine(s, 'DEBUG', 'redisctl_mcp::state', 'resolved database connection', [['database_url', s.secretUrl()], ['cluster', 'false']]);
    }
  }
  switch (s.int(10)) {
    case 0: return textLine(s, 'DEBUG', 'rmcp::service', 'received request', [['method', '"tools/call"'], ['id', String(s.rpcId)]]);
    case 1: return textLine(s, 'DEBUG', 'tower_mcp::transport::stdio', 'sending response', [['id', String(s.rpcId)], ['bytes', String(200 + s.int(4000))]]);
    case 2: return textLine(s, 'INFO', 'redisctl_mcp::tools::enterprise', 'database created', [['uid', String(1 + s.int(40))], ['name', q(s.pick(DB_NAMES))]], 'call_tool');
    case 3: return textLine(s, 'WARN', 'redisctl_mcp::tools::redis', 'slow command', [['command', '"KEYS"'], ['elapsed_ms', String(500 + s.int(2000))]]);
    case 4: return textLine(s, 'DEBUG', 'reqwest::connect', `starting new connection: https://api.redislabs.com/`, []);
    case 5: return textLine(s, 'DEBUG', 'hyper_util::client::legacy::pool', 'pooling idle connection for ("https", api.redislabs.com)', []);
    case 6: return textLine(s, 'ERROR', 'tower_mcp::router', 'tool call failed', [['tool', q(s.pick(TOOLS).name)], ['error', '"Failed to create database: 409 Conflict"']]);
    case 7: return textLine(s, 'INFO', 'redisctl_mcp::tools::cloud', 'waiting for task', [['task_id', q(`${s.hex8()}-${s.hex8().slice(0, 4)}`)], ['status', '"processing-in-progress"']], 'call_tool');
    case 8: return textLine(s, 'TRACE', 'redisctl_mcp::policy', 'policy evaluated', [['tool', q(s.pick(TOOLS).name)], ['allowed', s.chance(0.9) ? 'true' : 'false']]);
    default: return textLine(s, 'INFO', 'redisctl_mcp', `Loaded skill prompt`, [['skill', q(s.pick(['enterprise-health-check', 'cloud-database-provisioning', 'redisctl-setup']))]]);
  }
}

// ---------------------------------------------------------------------------------------------
// MCP stdio JSON-RPC (stdout, merged by 2>&1)
// ---------------------------------------------------------------------------------------------

/** @param {Stream} s @param {boolean} withSecret */
function randomJsonRpc(s, withSecret) {
  const id = s.rpcId;
  if (withSecret) {
    const tool = s.pick(['create_enterprise_database', 'create_database', 'create_enterprise_user', 'redis_get']);
    /** @type {Obj} */
    const args = { name: s.pick(DB_NAMES) };
    const r = s.int(3);
    if (r === 0) args.password = s.secret('jsonrpc_password');
    else if (r === 1) args.token = s.secret('jsonrpc_token');
    else args.url = s.secretUrl();
    s.rpcId++;
    return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${tool}","arguments":${q(args)}}}`;
  }
  switch (s.int(6)) {
    case 0: {
      const tool = s.pick(TOOL_TABLE);
      return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${tool.name}","arguments":${q(tool.args(s))}}}`;
    }
    case 1:
      s.rpcId++;
      return `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":${q(`{"databases":[{"uid":${1 + s.int(40)},"name":"${s.pick(DB_NAMES)}","status":"active"}]}`)}}],"isError":false}}`;
    case 2:
      s.rpcId++;
      return `{"jsonrpc":"2.0","id":${id},"error":{"code":-32007,"message":"Tool '${s.pick(DENIABLE).name}' is not allowed by the active policy"}}`;
    case 3:
      s.rpcId++;
      return `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"Failed to get database: 404 Not Found"}],"isError":true}}`;
    case 4:
      return `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"${s.hex8()}","progress":${s.int(100)},"total":100}}`;
    default:
      s.rpcId++;
      return `{"jsonrpc":"2.0","id":${id},"method":"tools/list","params":{}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Non-audit tracing JSON
// ---------------------------------------------------------------------------------------------

/** @param {Stream} s @param {boolean} withSecret */
function randomJsonLog(s, withSecret) {
  const flat = s.chance(s.o.flatRatio);
  let level = 'DEBUG';
  let target;
  let fields;
  if (withSecret) {
    switch (s.int(3)) {
      case 0: target = 'redisctl_mcp::state'; fields = `"message":"connecting","url":${q(s.secretUrl())}`; break;
      case 1: target = 'redis_cloud::client'; fields = `"message":"api request","path":"/v1/subscriptions","token":${q(s.secret('json_log_token'))}`; break;
      default: target = 'redisctl_core::config'; level = 'WARN'; fields = `"message":"credential from environment","profile":${q(s.pick(PROFILES))},"password":${q(s.secret('json_log_password'))}`;
    }
  } else {
    switch (s.int(5)) {
      case 0: target = 'redisctl_mcp::server'; level = 'INFO'; fields = `"message":"tool registered","tool":"${s.pick(TOOLS).name}"`; break;
      case 1: target = 'rmcp::service'; fields = `"message":"received request","method":"tools/call","id":${s.rpcId}`; break;
      case 2: target = 'rmcp::service'; fields = `"message":"sending response","id":${s.rpcId},"elapsed_ms":${s.int(2000)}`; break;
      // Near-miss target: not "audit", so not an audit event.
      case 3: target = 'redisctl_mcp::audit'; level = 'INFO'; fields = `"message":"audit layer installed","level":"all","include_args":true`; break;
      default: target = 'tower_mcp::router'; level = 'WARN'; fields = `"message":"tool call rejected","tool":"${s.pick(DENIABLE).name}","code":-32007`;
    }
  }
  return tracingJson(s.ts(), level, fields, target, flat, spanPart(s));
}

// ---------------------------------------------------------------------------------------------
// Hostile garbage (never oversize: tests make those themselves)
// ---------------------------------------------------------------------------------------------

/** @param {Stream} s @returns {string} binary string for the latin1 ones, text otherwise */
function randomGarbage(s) {
  switch (s.int(10)) {
    case 0: {
      // Invalid UTF-8: stray continuation bytes, truncated sequences, overlong forms, 0xFF.
      let out = '{"target":"aud';
      for (let i = 0, n = 8 + s.int(40); i < n; i++) out += String.fromCharCode(s.pick([0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf8, 0xfe, 0xff]), 0x20 + s.int(95));
      return out;
    }
    case 1: {
      let out = '';
      for (let i = 0, n = 16 + s.int(200); i < n; i++) {
        const b = s.int(256);
        out += String.fromCharCode(b === 0x0a ? 0x0b : b);
      }
      return out;
    }
    case 2: return '{"__proto__":{"polluted":"yes","target":"audit"},"constructor":{"prototype":{"polluted":"yes"}},"fields":{"__proto__":{"event":"tool_invocation"}}}';
    case 3: { const d = 500 + s.int(2500); return '['.repeat(d) + ']'.repeat(d); }
    case 4: { const d = 500 + s.int(1500); return '{"a":'.repeat(d) + '1' + '}'.repeat(d); }
    case 5: return '{"message":"\\ud800 lone \\udfff surrogates \\ud83d","n":1e400,"m":-0,"big":123456789012345678901234567890}';
    case 6: return s.pick(['', '   ', '\t', 'null', '[]', '42', 'true', '"audit"', '{}', '{"target":null}']);
    case 7: return `\x1b[999999999m\x1b[2J\x1b]0;title\x07 \x1b[38;5;300mnot a tracing line\x1b[0m\r mid-line CR`;
    case 8: return '\uFEFF{"timestamp":"2026-03-05T10:30:00Z","level":"INFO","fields":{"message":"BOM-prefixed"},"target":"rmcp::service"}'.replace('\uFEFF', '\xef\xbb\xbf');
    default: return '{"timestamp":"2026-03-05T10:30:00Z","level":"INFO","fields":{"message":"dup"},"target":"rmcp::service","timestamp":[],"level":{"x":1}}';
  }
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

/** Startup lines redisctl-mcp writes first (mixed scenario). @param {Stream} s @returns {GeneratedLine[]} */
function preamble(s) {
  const text = /** @param {string} line @returns {GeneratedLine} */ (line) => ({ line, truth: { kind: 'text', secrets: [], placements: [] } });
  const rpc = /** @param {string} line @returns {GeneratedLine} */ (line) => ({ line, truth: { kind: 'jsonrpc', secrets: [], placements: [] } });
  return [
    text(textLine(s, 'INFO', 'redisctl_mcp', 'Starting redisctl-mcp server', [
      ['transport', 'Stdio'], ['profiles', '["prod-cloud", "ent-lab"]'], ['policy_tier', 'read-write'],
      ['policy_source', 'file: /etc/redisctl/mcp-policy.toml'], ['audit_enabled', 'true'],
      ['toolsets', '["cloud", "enterprise", "database", "app"]'],
    ])),
    text(textLine(s, 'INFO', 'redisctl_mcp', 'Applying policy filter', [['tier', 'read-write']])),
    text(textLine(s, 'INFO', 'redisctl_mcp', 'Running with stdio transport', [])),
    text(textLine(s, 'INFO', 'redisctl_mcp', 'Audit logging enabled (level: All)', [])),
    rpc('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{"listChanged":true}},"clientInfo":{"name":"claude-code","version":"2.1.0"}}}'),
    rpc('{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":true},"prompts":{"listChanged":true},"resources":{}},"serverInfo":{"name":"redisctl-mcp","version":"0.9.2"}}}'),
    rpc('{"jsonrpc":"2.0","method":"notifications/initialized"}'),
  ];
}

/**
 * Generate `options.lines` lines with their ground truth. Deterministic: the same options
 * (seed included) give byte-identical lines.
 * @param {GenerateOptions} options
 * @returns {Generator<GeneratedLine>}
 */
function* generate(options) {
  const lines = Math.max(0, Math.floor(options.lines));
  const scenario = options.scenario ?? 'mixed';
  if (scenario !== 'mixed' && scenario !== 'audit') throw new RangeError(`unknown scenario "${String(scenario)}" (mixed|audit)`);
  const pure = scenario === 'audit';
  const s = new Stream({
    seed: options.seed ?? 42,
    auditRatio: clampRatio(options.auditRatio ?? (pure ? 1 : 0.2)),
    argsRatio: clampRatio(options.argsRatio ?? 1),
    secretRatio: clampRatio(options.secretRatio ?? 0.3),
    flatRatio: clampRatio(options.flatRatio ?? 0.1),
    invalidRatio: clampRatio(options.invalidRatio ?? (pure ? 0 : 0.01)),
    hostile: options.hostile ?? false,
    ansi: options.ansi ?? true,
    policyFields: options.policyFields ?? [],
  });
  const o = s.o;
  const garbageRatio = o.hostile ? 0.02 : 0;
  // Cumulative thresholds over one draw per line.
  const tInvalid = o.invalidRatio / 2;
  const tUnparseable = o.invalidRatio;
  const tGarbage = tUnparseable + garbageRatio;
  const tAudit = tGarbage + o.auditRatio;
  const rest = Math.max(0, 1 - tAudit);
  const tText = tAudit + rest * 0.6;
  const tRpc = tAudit + rest * 0.85;

  let n = 0;
  if (!pure) {
    for (const entry of preamble(s)) {
      if (n++ >= lines) return;
      yield entry;
    }
  }
  for (; n < lines; n++) {
    const r = s.rand();
    if (r < tInvalid) yield auditInvalidLine(s);
    else if (r < tUnparseable) yield auditUnparseableLine(s);
    else if (r < tGarbage) yield { line: randomGarbage(s), truth: s.truth('garbage') };
    else if (r < tAudit) yield auditLine(s);
    else {
      const withSecret = s.chance(o.secretRatio);
      /** @type {LineKind} */ let kind;
      let line;
      if (r < tText) { kind = 'text'; line = randomText(s, withSecret); }
      else if (r < tRpc) { kind = 'jsonrpc'; line = randomJsonRpc(s, withSecret); }
      else { kind = 'json_log'; line = randomJsonLog(s, withSecret); }
      yield { line, truth: s.truth(kind) };
    }
  }
}

/** @param {number} r */
function clampRatio(r) {
  if (typeof r !== 'number' || Number.isNaN(r)) throw new RangeError(`ratio must be a number, got ${String(r)}`);
  return Math.min(1, Math.max(0, r));
}

/**
 * The bytes of one generated line with its "\n": latin1 for 'garbage' (binary strings), UTF-8 otherwise.
 * @param {GeneratedLine} entry
 * @returns {Buffer}
 */
function lineToBuffer(entry) {
  return Buffer.from(entry.line + '\n', entry.truth.kind === 'garbage' ? 'latin1' : 'utf8');
}

const CHUNK = 1 << 20;

/**
 * Write the generated lines (each + "\n") to a Writable or a file descriptor, in ~1 MiB writes,
 * honouring backpressure. 'garbage' lines are written as latin1 (raw bytes), the rest as UTF-8.
 * @param {GenerateOptions} options
 * @param {NodeJS.WritableStream | number} writable
 * @param {(entry: GeneratedLine) => void} [onLine] sees every line (e.g. to record the truth)
 * @returns {Promise<number>} lines written
 */
async function writeStream(options, writable, onLine) {
  const fd = typeof writable === 'number' ? writable : null;
  const stream = typeof writable === 'number' ? null : writable;
  // Lines are encoded straight into a chunk buffer: no big intermediate strings. A stream keeps
  // the buffer it was given, so each chunk is a new one; a file descriptor reuses it.
  let chunk = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  let count = 0;
  /** @type {Error | null} */ let failure = null;
  /** @type {((err?: Error) => void) | null} */ let wake = null;
  const onError = (/** @type {Error} */ err) => { failure = err; if (wake) wake(err); };
  if (stream) stream.on('error', onError);

  /** @param {Buffer} bytes */
  const put = async (bytes) => {
    if (failure) throw failure;
    if (fd !== null) {
      for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off);
      return;
    }
    const s = /** @type {NodeJS.WritableStream} */ (stream);
    if (!s.write(bytes)) {
      await new Promise((resolve, reject) => {
        const onDrain = () => { if (wake) wake(); };
        wake = (err) => { wake = null; s.removeListener('drain', onDrain); if (err) reject(err); else resolve(undefined); };
        s.once('drain', onDrain);
      });
    }
    if (failure) throw failure;
  };
  const flush = async () => {
    if (used === 0) return;
    const full = chunk.subarray(0, used);
    if (fd === null) chunk = Buffer.allocUnsafe(CHUNK);
    used = 0;
    await put(full);
  };

  try {
    for (const entry of generate(options)) {
      count++;
      if (onLine) onLine(entry);
      const line = entry.line;
      const encoding = entry.truth.kind === 'garbage' ? 'latin1' : 'utf8';
      // Worst case 3 bytes per UTF-16 unit, plus the newline.
      const worst = line.length * 3 + 1;
      if (worst > CHUNK - used) {
        await flush();
        if (worst > CHUNK) {
          await put(Buffer.from(line + '\n', encoding));
          continue;
        }
      }
      used += chunk.write(line, used, encoding);
      chunk[used++] = 0x0a;
    }
    await flush();
  } finally {
    if (stream) stream.removeListener('error', onError);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {GenerateOptions} */
  const options = { lines: 1000, seed: 42, scenario: 'mixed' };
  /** @type {string | undefined} */ let out;
  /** @type {string | undefined} */ let truth;
  const num = (/** @type {string} */ flag, /** @type {string | undefined} */ v) => {
    const x = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(x)) throw new Error(`${flag} needs a number`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case '--scenario': {
        const v = value();
        if (v !== 'mixed' && v !== 'audit') throw new Error('--scenario must be mixed or audit');
        options.scenario = v;
        break;
      }
      case '--lines': options.lines = num(flag, value()); break;
      case '--seed': options.seed = num(flag, value()); break;
      case '--out': out = value(); break;
      case '--truth': truth = value(); break;
      case '--audit-ratio': options.auditRatio = num(flag, value()); break;
      case '--args-ratio': options.argsRatio = num(flag, value()); break;
      case '--secret-ratio': options.secretRatio = num(flag, value()); break;
      case '--flat-ratio': options.flatRatio = num(flag, value()); break;
      case '--invalid-ratio': options.invalidRatio = num(flag, value()); break;
      case '--hostile': options.hostile = true; break;
      case '--no-ansi': options.ansi = false; break;
      case '--policy-fields': options.policyFields = (value() ?? '').split(',').filter(Boolean); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  return { options, out, truth };
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`generate: ${/** @type {Error} */ (err).message}\n`);
    process.exitCode = 2;
    return;
  }
  const { options, out, truth } = parsed;
  // A reader that went away (`| head`) is not an error of ours.
  process.stdout.on('error', (err) => { if (/** @type {NodeJS.ErrnoException} */ (err).code === 'EPIPE') process.exit(0); });
  const fd = out === undefined ? null : fs.openSync(out, 'w');
  const truthFd = truth === undefined ? null : fs.openSync(truth, 'w');
  let truthBuf = '';
  const onLine = truthFd === null ? undefined : (/** @type {GeneratedLine} */ e) => {
    truthBuf += JSON.stringify(e.truth) + '\n';
    if (truthBuf.length >= CHUNK) { fs.writeSync(truthFd, truthBuf); truthBuf = ''; }
  };
  try {
    await writeStream(options, fd ?? process.stdout, onLine);
    if (truthFd !== null && truthBuf) fs.writeSync(truthFd, truthBuf);
  } catch (err) {
    // A reader that went away (`| head`) is not an error of ours.
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EPIPE') throw err;
  } finally {
    if (fd !== null) fs.closeSync(fd);
    if (truthFd !== null) fs.closeSync(truthFd);
  }
}

module.exports = { generate, writeStream, lineToBuffer, mulberry32, SENSITIVE_KEYS };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
