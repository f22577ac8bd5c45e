/**
 * Redaction: audit-router's second line of defence.
 *
 * redisctl-mcp redacts its own `redact_fields`, but a misconfigured or older server leaks, so
 * everything that leaves this process goes through a Redactor first. The rules mirror
 * redisctl-mcp's `crates/redisctl-mcp/src/audit.rs` (field-name normalisation, the always-redacted
 * list, Redis URL sanitising, the raw-command tool rules) and add defence in depth on top; see
 * docs/redaction.md.
 *
 * Hot path: an audit event costs one Map lookup per key, a char test and an indexOf per string,
 * plus one JSON.parse/JSON.stringify of its `arguments` string. Containers are mutated in place
 * and untouched values are never copied.
 */
import { ConfigError } from '../../util/errors';
import { isJsonObject, type JsonObject, type JsonValue } from '../../util/json';

export const REDACTED = '[REDACTED]';

/** What a credential inside a URL becomes; redisctl-mcp writes `redis://redacted:redacted@host`. */
const URL_MASK = 'redacted';

/**
 * Normalised key names whose values are always redacted: redisctl-mcp's ALWAYS_REDACT_FIELDS
 * (first block) plus common credential names. Extra names come from the constructor.
 */
export const BUILTIN_SENSITIVE_KEYS: readonly string[] = Object.freeze([
  // redisctl-mcp ALWAYS_REDACT_FIELDS
  'accesskeyid',
  'accesssecretkey',
  'apikey',
  'apisecret',
  'bindpass',
  'clientsecret',
  'consolepassword',
  'credential',
  'dbpassword',
  'globalpassword',
  'licensekey',
  'password',
  'privatekey',
  'refreshtoken',
  'secret',
  'secretkey',
  'token',
  'accesstoken',
  // common credential names
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'passphrase',
  'passwd',
  'pwd',
  'pass',
  'auth',
  'xapikey',
  'apitoken',
  'authtoken',
  'xauthtoken',
  'idtoken',
  'sessiontoken',
  'sessionkey',
  'accesskey',
  'clientkey',
  'signingkey',
  'encryptionkey',
  'sslkey',
  'tlskey',
  'sharedkey',
]);

/** Defence in depth: a normalised key containing one of these is sensitive too (not "token"). */
const SENSITIVE_PARTS: readonly string[] = ['password', 'passphrase', 'passwd', 'secret', 'privatekey', 'credential'];

/**
 * URL query (and fragment) parameter names that are sensitive on top of the key rules;
 * redisctl-mcp adds pass/user/username, the rest are common signed-URL and API-key parameters.
 */
const URL_PARAM_NAMES: ReadonlySet<string> = new Set([
  'pass',
  'user',
  'username',
  'auth',
  'key',
  'sig',
  'signature',
  'xamzsignature',
  'xgoogsignature',
]);

/** Schemes redisctl-mcp sanitises; for these a fragment is masked whole and an `@` in the path fails closed. */
const REDIS_SCHEMES: ReadonlySet<string> = new Set([
  'redis',
  'rediss',
  'redis+unix',
  'unix',
  'valkey',
  'valkeys',
  'valkey+unix',
]);

/** Keys whose string values are free text (tracing's `message` and friends): text masking applies. */
const TEXT_KEYS: ReadonlySet<string> = new Set(['message', 'msg', 'error', 'err', 'reason', 'detail']);

export const DEFAULT_MAX_DEPTH = 64;
/** Recursion is bounded by maxDepth, so it must stay far below what the JS stack can take. */
const MAX_MAX_DEPTH = 1000;
/** Nested URLs (a URL in a URL's path or query) are followed this deep, then fail closed. */
const MAX_URL_NESTING = 8;
/** The key-verdict cache is cleared when it grows past this (keys are input-controlled). */
const KEY_CACHE_LIMIT = 8192;

// Key verdict bits, cached per raw key.
const KEY_SENSITIVE = 1;
const KEY_TEXT = 2;
const KEY_HAS_URL = 4;

type ToolRule = { readonly strict: boolean; apply(args: JsonObject): void };

/** Per-tool argument rules (redisctl-mcp `redact_arguments`); the tool name is the event's `tool`. */
const TOOL_RULES: ReadonlyMap<string, ToolRule> = new Map<string, ToolRule>([
  ['redis_command', { strict: true, apply: redactRawCommand }],
  ['redis_bulk_load', { strict: true, apply: redactPackedCommands }],
  ['redis_alias_set', { strict: true, apply: redactPackedCommands }],
  // Its private-key argument is called `key`, which cannot be on the global list.
  ['update_enterprise_cluster_certificates', { strict: false, apply: redactCertificateKey }],
]);

/**
 * Lower-case ASCII letters and digits of `key`, everything else dropped (redisctl-mcp's
 * `normalize_field_name`): "DB-Password", "db_password" and "dbPassword" are all "dbpassword".
 */
export function normaliseKey(key: string): string {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) out += key[i];
    else if (c >= 65 && c <= 90) out += String.fromCharCode(c + 32);
  }
  return out;
}

export interface RedactorOptions {
  /** Extra sensitive field names (config, policy file `[audit].redact_fields`, --redact-field). */
  fields?: Iterable<string>;
  /** Containers nested deeper than this (embedded JSON strings count) become "[REDACTED]". */
  maxDepth?: number;
}

export class Redactor {
  private readonly names: ReadonlySet<string>;
  private readonly maxDepth: number;
  private readonly verdicts = new Map<string, number>();
  /** Set by maskPairs: the segment ended where a sensitive key's value starts. */
  private pendingValue = false;

  constructor(options: RedactorOptions = {}) {
    const names = new Set<string>(BUILTIN_SENSITIVE_KEYS);
    for (const field of options.fields ?? []) {
      if (typeof field !== 'string') throw new ConfigError('a redact field must be a string', undefined, 'redact_fields');
      const normalised = normaliseKey(field);
      if (normalised === '') {
        throw new ConfigError(`redact field ${JSON.stringify(field)} has no letters or digits`, undefined, 'redact_fields');
      }
      names.add(normalised);
    }
    this.names = names;
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_MAX_DEPTH) {
      throw new ConfigError(`max depth must be an integer from 1 to ${MAX_MAX_DEPTH}, got ${String(maxDepth)}`);
    }
    this.maxDepth = maxDepth;
  }

  isSensitiveKey(key: string): boolean {
    return (this.verdict(key) & KEY_SENSITIVE) !== 0;
  }

  redactEvent(record: JsonObject): JsonObject {
    const nested = record.fields;
    let fields = isJsonObject(nested) ? nested : record;
    let tool = fields.tool;
    // A JSON-RPC `tools/call` request (MCP traffic a server logs, passed through) names its tool
    // in params.name, next to params.arguments: the same rules apply.
    const params = record.params;
    if (fields === record && record.method === 'tools/call' && isJsonObject(params)) {
      fields = params;
      tool = params.name;
    }
    // A JSON-RPC response carries a tool's output (`CONFIG GET requirepass` answers with the
    // password): nothing names the secret in it, so it is withheld whole (fail closed).
    if (fields === record && Object.hasOwn(record, 'jsonrpc') && Object.hasOwn(record, 'result')) record.result = REDACTED;
    const rule = typeof tool === 'string' ? TOOL_RULES.get(tool) : undefined;
    if (rule === undefined || !Object.hasOwn(fields, 'arguments')) {
      this.walkObject(record, 0);
      return record;
    }
    // The tool rule needs the parsed arguments, so hold them out of the generic walk (the key
    // stays in place, keeping field order) and redact them once, generically plus the rule.
    const args = fields.arguments as JsonValue;
    fields.arguments = null;
    this.walkObject(record, 0);
    if ((fields === record || record.fields === fields || record.params === fields) && fields.arguments === null) {
      fields.arguments = this.redactToolArguments(rule, args, fields === record ? 1 : 2);
    }
    return record;
  }

  redactValue(value: JsonValue): JsonValue {
    return this.walk(value, 0);
  }

  redactText(text: string): string {
    if (text.length === 0) return text;
    this.pendingValue = false;
    if (urlMark(text, 0) < 0) return this.maskPairs(text);
    return this.maskUrls(text, 0, true);
  }

  // ---- keys ----

  private verdict(key: string): number {
    let v = this.verdicts.get(key);
    if (v !== undefined) return v;
    v = 0;
    const normalised = normaliseKey(key);
    if (this.sensitiveName(normalised)) v |= KEY_SENSITIVE;
    else if (hasNonAscii(key)) {
      // Compatibility forms (full-width letters, ligatures) fold to ASCII under NFKC, and Cyrillic
      // or Greek look-alikes (`pаssword` with a Cyrillic а) to the Latin letter they imitate; the
      // plain normalisation above is kept too, so folding can only add matches.
      const folded = normaliseKey(foldLookalikes(key.normalize('NFKC')));
      if (this.sensitiveName(folded)) v |= KEY_SENSITIVE;
    }
    if (TEXT_KEYS.has(normalised)) v |= KEY_TEXT;
    if (urlMark(key, 0) >= 0) v |= KEY_HAS_URL;
    if (this.verdicts.size >= KEY_CACHE_LIMIT) this.verdicts.clear();
    this.verdicts.set(key, v);
    return v;
  }

  private sensitiveName(n: string): boolean {
    if (n === '') return false;
    if (this.names.has(n)) return true;
    for (let i = 0; i < SENSITIVE_PARTS.length; i++) if (n.includes(SENSITIVE_PARTS[i]!)) return true;
    // Suffixes: auth_token, github_token, authentication_redis_pass; max_tokens and bypass survive.
    if (n.endsWith('token')) return true;
    return n.endsWith('pass') && !n.endsWith('bypass');
  }

  private sensitiveUrlParam(name: string): boolean {
    return this.isSensitiveKey(name) || URL_PARAM_NAMES.has(normaliseKey(name));
  }

  // ---- values ----

  private walk(value: JsonValue, depth: number): JsonValue {
    if (typeof value === 'string') return this.redactString(value, depth, false);
    if (typeof value !== 'object' || value === null) return value;
    if (depth > this.maxDepth) return REDACTED;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i]!;
        if (typeof item === 'string' || (typeof item === 'object' && item !== null)) {
          const out = this.walk(item, depth + 1);
          if (out !== item) value[i] = out;
        }
      }
      return value;
    }
    return this.walkObject(value, depth);
  }

  private walkObject(obj: JsonObject, depth: number): JsonValue {
    if (depth > this.maxDepth) return REDACTED;
    let urlKeys = false;
    // for-in over a JSON.parse object walks V8's enum cache; JSON objects have no inherited
    // enumerable keys unless Object.prototype was polluted, which hasOwn guards against.
    for (const key in obj) {
      if (!Object.hasOwn(obj, key)) continue;
      const v = this.verdict(key);
      const item = obj[key]!;
      if ((v & KEY_SENSITIVE) !== 0) {
        // JSON.parse makes `__proto__` an own data property, so a plain assignment updates it.
        if (item !== REDACTED) obj[key] = REDACTED;
        continue;
      }
      if ((v & KEY_HAS_URL) !== 0) urlKeys = true;
      let out: JsonValue;
      if (typeof item === 'string') out = this.redactString(item, depth + 1, (v & KEY_TEXT) !== 0);
      else if (typeof item === 'object' && item !== null) out = this.walk(item, depth + 1);
      else continue;
      if (out !== item) obj[key] = out;
    }
    if (urlKeys) this.maskUrlKeys(obj, Object.keys(obj));
    return obj;
  }

  /** A key holding a URL with credentials is renamed in place, keeping the key order. */
  private maskUrlKeys(obj: JsonObject, keys: string[]): void {
    const masked = keys.map((k) => this.maskUrls(k, 0, false));
    if (masked.every((k, i) => k === keys[i])) return;
    const values = keys.map((k) => obj[k]!);
    for (const k of keys) delete obj[k];
    for (let i = 0; i < keys.length; i++) defineOwn(obj, masked[i]!, values[i]!);
  }

  private redactString(s: string, depth: number, text: boolean): JsonValue {
    if (s.length === 0 || s === REDACTED) return s;
    let c = s.charCodeAt(0);
    if (c <= 32) c = firstNonSpace(s);
    if (c === 123 /* { */ || c === 91 /* [ */) return this.redactEmbeddedJson(s, depth, text);
    if (c === 34 /* " */ && s.length > 1 && s.charCodeAt(s.length - 1) === 34) {
      // A JSON string literal (double-encoded JSON, `"{\"password\":...}"`) is decoded and redacted too.
      const inner = decodeJsonString(s);
      if (inner !== null) {
        if (depth > this.maxDepth) return REDACTED;
        const out = this.redactString(inner, depth + 1, text);
        return out === inner ? s : out === REDACTED ? out : JSON.stringify(out);
      }
    }
    if (text) return this.redactText(s);
    return urlMark(s, 0) < 0 ? s : this.maskUrls(s, 0, false);
  }

  /** A string holding JSON is parsed, redacted and re-serialised (never copied through raw). */
  private redactEmbeddedJson(s: string, depth: number, text: boolean): JsonValue {
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(s) as JsonValue;
    } catch {
      // Looks like JSON but is not. With a quote in it, JSON semantics (escaped or duplicate
      // keys) could hide a secret from text masking: fail closed. Without quotes it holds no
      // JSON keys or strings, so text masking ("[1/3] step", "{password=x}") is enough.
      if (s.indexOf('"') >= 0) return REDACTED;
      return text || s.indexOf('=') >= 0 || s.indexOf(':') >= 0 ? this.redactText(s) : s;
    }
    const out = this.walk(parsed, depth + 1);
    return typeof out === 'string' ? out : JSON.stringify(out);
  }

  private redactToolArguments(rule: ToolRule, value: JsonValue, depth: number): JsonValue {
    let args: JsonValue = value;
    const embedded = typeof value === 'string';
    if (typeof value === 'string') {
      if (value === REDACTED) return value;
      try {
        args = JSON.parse(value) as JsonValue;
      } catch {
        return rule.strict ? REDACTED : this.walk(value, depth);
      }
    }
    if (!isJsonObject(args)) {
      // redisctl-mcp: raw-command arguments that are not an object are redacted whole.
      if (rule.strict) return REDACTED;
      return embedded ? this.walk(value, depth) : this.walk(args, depth);
    }
    const out = this.walk(args, embedded ? depth + 1 : depth);
    if (!isJsonObject(out)) return REDACTED;
    rule.apply(out);
    return embedded ? JSON.stringify(out) : out;
  }

  // ---- URLs ----

  /**
   * Masks credentials of every `scheme://` URL in `s`. With `pairs`, the text between URLs gets
   * key=value masking, and a URL that is itself a sensitive key's value is redacted whole.
   */
  private maskUrls(s: string, nest: number, pairs: boolean): string {
    let at = urlMark(s, 0);
    if (at < 0) return pairs ? this.maskPairs(s) : s;
    let out = '';
    let copied = 0;
    let floor = 0;
    let changed = false;
    while (at >= 0) {
      let start = at;
      while (start > floor && isSchemeChar(s.charCodeAt(start - 1))) start--;
      while (start < at && !isAlpha(s.charCodeAt(start))) start++;
      const body = at + (s.charCodeAt(at + 1) === 92 /* \ */ ? 5 : 3);
      let end = body;
      while (end < s.length && !isUrlTerminator(s.charCodeAt(end))) end++;
      while (end > body && isTrailingPunctuation(s.charCodeAt(end - 1))) end--;
      const token = s.slice(start, end);
      let masked: string;
      if (pairs) {
        const gap = this.maskPairs(s.slice(copied, start));
        masked = this.pendingValue ? REDACTED : this.maskToken(token, start === at ? '' : s.slice(start, at), nest);
        this.pendingValue = false;
        out += gap + masked;
        copied = end;
        changed = true;
      } else {
        masked = this.maskToken(token, s.slice(start, at), nest);
        if (masked !== token) {
          out += s.slice(copied, start) + masked;
          copied = end;
          changed = true;
        }
      }
      floor = end;
      at = urlMark(s, Math.max(end, body));
    }
    if (!changed) return s;
    return out + (pairs ? this.maskPairs(s.slice(copied)) : s.slice(copied));
  }

  /**
   * A URL token as found in text: JSON text may escape its slashes (`redis:\/\/u:p@h`), which
   * is unescaped to be checked and escaped again when masked.
   */
  private maskToken(token: string, scheme: string, nest: number): string {
    if (token.charCodeAt(scheme.length + 1) !== 92 /* \ */) return this.maskUrl(token, scheme, nest);
    const plain = token.replace(/\\\//g, '/');
    const masked = this.maskUrl(plain, scheme, nest);
    if (masked === plain) return token;
    return masked === REDACTED ? masked : masked.replace(/\//g, '\\/');
  }

  /** One URL token; returns it unchanged when it holds no credentials, "[REDACTED]" when malformed. */
  private maskUrl(token: string, scheme: string, nest: number): string {
    const schemeLower = scheme.toLowerCase();
    const redisFamily = REDIS_SCHEMES.has(schemeLower);
    const bodyStart = scheme.length + 3;
    let i = bodyStart;
    while (i < token.length) {
      const c = token.charCodeAt(i);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */ || c === 92 /* \ */) break;
      i++;
    }
    const authority = token.slice(bodyStart, i);
    let userinfo = '';
    let hostport = authority;
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      userinfo = maskUserinfo(authority.slice(0, at)) + '@';
      hostport = authority.slice(at + 1);
    }
    if (!validHostPort(hostport)) return REDACTED;

    const rest = token.slice(i);
    const hash = rest.indexOf('#');
    const beforeHash = hash < 0 ? rest : rest.slice(0, hash);
    const q = beforeHash.indexOf('?');
    let path = q < 0 ? beforeHash : beforeHash.slice(0, q);
    let query: string | null = q < 0 ? null : beforeHash.slice(q + 1);
    let fragment: string | null = hash < 0 ? null : rest.slice(hash + 1);

    // A Redis URL has no `@` after its authority: one there is a password with an unencoded
    // `/`, `?` or `#` in it, so the authority split above was wrong. Fail closed.
    if (redisFamily && (path.indexOf('@') >= 0 || (query !== null && query.indexOf('@') >= 0))) return REDACTED;
    if (path.indexOf('://') >= 0) {
      if (nest >= MAX_URL_NESTING) return REDACTED;
      path = this.maskUrls(path, nest + 1, false);
    }
    if (query !== null) {
      query = this.maskParams(query, nest);
      if (query === null) return REDACTED;
    }
    if (fragment !== null) {
      // redisctl-mcp masks a Redis URL's fragment whole; elsewhere it may carry
      // `#access_token=...`, so it is masked like a query.
      fragment = redisFamily ? URL_MASK : this.maskParams(fragment, nest);
      if (fragment === null) return REDACTED;
    }
    const result =
      token.slice(0, bodyStart) +
      userinfo +
      hostport +
      path +
      (query === null ? '' : '?' + query) +
      (fragment === null ? '' : '#' + fragment);
    return result === token ? token : result;
  }

  /** `a=1&pass=x` with sensitive values masked; null when a name cannot be decoded. */
  private maskParams(params: string, nest: number): string | null {
    if (params.length === 0 || (params.indexOf('=') < 0 && params.indexOf('://') < 0)) return params;
    const parts = params.split('&');
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const name = decodeComponent(part.slice(0, eq));
      if (name === null) return null;
      const value = part.slice(eq + 1);
      let out = value;
      if (this.sensitiveUrlParam(name)) out = URL_MASK;
      else if (value.indexOf('://') >= 0 || /%3a/i.test(value)) {
        // A URL in a parameter (redirect=, url=), possibly percent-encoded.
        if (nest >= MAX_URL_NESTING) return null;
        const decoded = decodeComponent(value);
        if (decoded === null) return null;
        const masked = this.maskUrls(decoded, nest + 1, false);
        if (masked !== decoded) out = encodeURIComponent(masked);
      }
      if (out !== value) {
        parts[i] = part.slice(0, eq + 1) + out;
        changed = true;
      }
    }
    return changed ? parts.join('&') : params;
  }

  // ---- text ----

  /**
   * Masks `key=value`, `key: value` and `"key": "value"` pairs with a sensitive key, and
   * `Bearer <token>`. Sets `pendingValue` when the text ends where a sensitive value starts.
   */
  private maskPairs(s: string): string {
    this.pendingValue = false;
    if (s.length === 0) return s;
    let out = '';
    let copied = 0;
    if (s.indexOf('=') >= 0 || s.indexOf(':') >= 0) {
      const re = PAIR_KEY_RE;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(s)) !== null) {
        const key = m[2]!;
        if (!this.isSensitiveKey(key)) {
          // Resume right after the key so `a:password=x` still finds `password`.
          re.lastIndex = m.index + m[0].length;
          continue;
        }
        let p = skipSpaceAndAnsi(s, m.index + m[0].length);
        if (p >= s.length) {
          this.pendingValue = true;
          break;
        }
        let q = p;
        while (s.charCodeAt(q) === 92 /* \ */) q++;
        const c = s.charCodeAt(q);
        let valueStart = p;
        let valueEnd: number;
        let prefix = '';
        let suffix = '';
        if (c === 34 /* " */ || c === 39 /* ' */) {
          // `"v"`, or `\"v\"` when the pair sits inside an escaped string in the text.
          valueStart = q + 1;
          if (q === p) {
            valueEnd = closingQuote(s, valueStart, c);
            if (valueEnd < s.length) suffix = s[valueEnd]!;
          } else {
            const delimiter = s.slice(p, q + 1);
            valueEnd = s.indexOf(delimiter, valueStart);
            if (valueEnd < 0) valueEnd = s.length;
            else suffix = delimiter;
          }
          if (valueEnd >= s.length) this.pendingValue = true;
        } else if (c === 123 /* { */ || c === 91 /* [ */) {
          valueEnd = balancedEnd(s, p);
          // `password=[x]hunter2` is one word that starts with a bracket, not a bracketed value.
          if (valueEnd < s.length && isWordChar(s.charCodeAt(valueEnd))) valueEnd = unquotedEnd(s, valueEnd);
        } else {
          valueEnd = unquotedEnd(s, p);
          const word = s.slice(p, valueEnd).toLowerCase();
          if (AUTH_SCHEMES.has(word) && valueEnd < s.length && s.charCodeAt(valueEnd) === 32) {
            const next = unquotedEnd(s, valueEnd + 1);
            if (next > valueEnd + 1) {
              prefix = s.slice(p, valueEnd + 1);
              valueEnd = next;
            }
          }
        }
        const original = s.slice(valueStart, valueEnd);
        const replacement = prefix === '' ? REDACTED : prefix + REDACTED;
        if (original !== replacement && !(prefix === '' && original === '' && suffix === '')) {
          out += s.slice(copied, valueStart) + replacement;
          copied = valueEnd;
        }
        re.lastIndex = Math.max(valueEnd + suffix.length, m.index + m[0].length);
        if (this.pendingValue) break;
      }
    }
    const result = copied === 0 ? s : out + s.slice(copied);
    return /bearer/i.test(result) ? result.replace(BEARER_RE, 'Bearer ' + REDACTED) : result;
  }
}

// ---- tool rules (redisctl-mcp `redact_arguments`) ----

/** redis_command's own fields (redisctl-mcp's RedisCommandInput); the generic rules cover their values. */
const RAW_COMMAND_FIELDS: ReadonlySet<string> = new Set(['command', 'args', 'url', 'profile', 'dry_run']);

/**
 * redis_command: `command` keeps its (upper-cased) name, every operand in `args` is redacted, and
 * so is any field the tool does not have (`{"command":"SET","key":"k","value":"v"}`: a mis-shaped
 * operand that the server ignores but logs).
 */
function redactRawCommand(args: JsonObject): void {
  for (const key of Object.keys(args)) if (!RAW_COMMAND_FIELDS.has(key)) args[key] = REDACTED;
  if (Object.hasOwn(args, 'command')) args.command = commandIdentity(args.command!);
  if (!Object.hasOwn(args, 'args')) return;
  const operands = args.args;
  if (Array.isArray(operands)) redactOperands(operands, false);
  else args.args = REDACTED;
}

/** redis_bulk_load / redis_alias_set: `commands: [{args: ["SET", ...]}]`, name kept, operands redacted. */
function redactPackedCommands(args: JsonObject): void {
  if (!Object.hasOwn(args, 'commands')) return;
  const commands = args.commands;
  if (!Array.isArray(commands)) {
    args.commands = REDACTED;
    return;
  }
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]!;
    if (!isJsonObject(command)) {
      commands[i] = REDACTED;
      continue;
    }
    if (Object.hasOwn(command, 'args')) {
      // A packed command is `{args}` alone: anything beside it may be a mis-shaped operand.
      for (const key of Object.keys(command)) if (key !== 'args') command[key] = REDACTED;
      const operands = command.args;
      if (Array.isArray(operands)) redactOperands(operands, true);
      else command.args = REDACTED;
    } else {
      // Not a packed command: drop all of it rather than keep an unknown field that may be a
      // mis-shaped operand.
      for (const key of Object.keys(command)) delete command[key];
      command.args = REDACTED;
    }
  }
}

function redactCertificateKey(args: JsonObject): void {
  if (Object.hasOwn(args, 'key')) args.key = REDACTED;
}

function redactOperands(operands: JsonValue[], commandIsFirst: boolean): void {
  let i = 0;
  if (commandIsFirst && operands.length > 0) {
    operands[0] = commandIdentity(operands[0]!);
    i = 1;
  }
  for (; i < operands.length; i++) operands[i] = REDACTED;
}

/** Redis command names are short words (GET, FT.SEARCH, CLIENT|LIST); anything else is redacted. */
const COMMAND_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._|-]{0,63}$/;

function commandIdentity(value: JsonValue): JsonValue {
  if (typeof value !== 'string') return REDACTED;
  const name = value.trim();
  if (name === REDACTED || !COMMAND_NAME_RE.test(name)) return REDACTED;
  return name.toUpperCase();
}

// ---- helpers ----

/** Defines an own enumerable property, even one called `__proto__`, without touching prototypes. */
function defineOwn(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Cyrillic and Greek letters drawn like Latin ones (Unicode's confusables for a-z), mapped to
 * those: a key spelt with them reads as the Latin word to a person, so it is judged as one.
 */
const LOOKALIKES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    a: 'аАαΑ', b: 'ВвЬβΒ', c: 'сСϲϹ', d: 'ԁ', e: 'еЕεΕ', h: 'һНнΗ', i: 'іІӀιΙı', j: 'јЈ', k: 'кКκΚ',
    l: 'ӏ', m: 'МмΜ', n: 'ηΝ', o: 'оОοΟօ', p: 'рРρΡ', q: 'ԛ', s: 'ѕЅ', t: 'тТτΤ', u: 'υս',
    v: 'ν', w: 'ԝѡω', x: 'хХχΧ', y: 'уУүҮγΥ', z: 'Ζ',
  }).flatMap(([latin, lookalikes]) => [...lookalikes].map((c): [string, string] => [c, latin])),
);

function foldLookalikes(key: string): string {
  let out = '';
  for (const c of key) out += LOOKALIKES.get(c) ?? c;
  return out;
}

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

function firstNonSpace(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return c;
  }
  return -1;
}

function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isSchemeChar(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57) || c === 43 /* + */ || c === 45 /* - */ || c === 46 /* . */;
}

function isUrlTerminator(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 96 || c === 127;
}

function isTrailingPunctuation(c: number): boolean {
  // `]` is not trimmed: it closes an IPv6 host.
  return c === 46 || c === 44 || c === 59 || c === 58 || c === 33 || c === 63 || c === 41 || c === 125;
}

function maskUserinfo(userinfo: string): string {
  if (userinfo === '') return '';
  const colon = userinfo.indexOf(':');
  if (colon < 0) return URL_MASK;
  return (colon > 0 ? URL_MASK : '') + ':' + (colon < userinfo.length - 1 ? URL_MASK : '');
}

const HOST_RE = /^[A-Za-z0-9\-._~%!$&'()*+;=]*$/;
const IPV6_RE = /^[0-9A-Za-z:.%_~-]+$/;
const PORT_RE = /^[0-9]{0,5}$/;

/** host[:port], [v6][:port], or a comma-separated list of them (sentinel, mongodb). */
function validHostPort(hostport: string): boolean {
  if (hostport === '') return true;
  const hosts = hostport.indexOf(',') >= 0 ? hostport.split(',') : [hostport];
  for (const hp of hosts) {
    let host = hp;
    let port = '';
    if (hp.charCodeAt(0) === 91 /* [ */) {
      const close = hp.indexOf(']');
      if (close < 0 || !IPV6_RE.test(hp.slice(1, close))) return false;
      const after = hp.slice(close + 1);
      if (after !== '') {
        if (after.charCodeAt(0) !== 58) return false;
        port = after.slice(1);
      }
      host = '';
    } else {
      const colon = hp.lastIndexOf(':');
      if (colon >= 0) {
        host = hp.slice(0, colon);
        port = hp.slice(colon + 1);
      }
    }
    if (!HOST_RE.test(host) || !PORT_RE.test(port) || (port !== '' && Number(port) > 65535)) return false;
  }
  return true;
}

/**
 * Where the next URL's `://` starts, from `from`, or its JSON-escaped form `:\/\/` (a URL in
 * JSON text whose writer escapes slashes); -1 when there is none.
 */
function urlMark(s: string, from: number): number {
  const plain = s.indexOf('://', from);
  const escaped = s.indexOf(':\\/\\/', from);
  if (escaped < 0) return plain;
  return plain < 0 ? escaped : Math.min(plain, escaped);
}

function decodeJsonString(s: string): string | null {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

function decodeComponent(s: string): string | null {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * Letters a key in text may hold besides ASCII: Latin-1 and Latin Extended, Greek, Cyrillic,
 * Armenian, zero-width characters and full-width forms, so that `pаssword=` (Cyrillic а),
 * `pass\u200bword=` and `ｐａｓｓｗｏｒｄ=` are read as one key and judged by isSensitiveKey.
 */
const KEY_EXTRA = '\u00a0-\u024f\u0370-\u03ff\u0400-\u04ff\u0530-\u058f\u200b-\u200f\u2060\ufeff\uff00-\uffef';

/**
 * A key, optionally quoted, then `=` or `:` (ANSI colour codes allowed around the separator,
 * as tracing writes `\x1b[3mpassword\x1b[0m\x1b[2m=\x1b[0m`). The lookbehind keeps it to whole words.
 */
const PAIR_KEY_RE = new RegExp(
  `(?<=^|[^A-Za-z0-9_.\\-]|\\x1b\\[[0-9;]*m)(\\\\{0,4}["']?)([A-Za-z_${KEY_EXTRA}][A-Za-z0-9_.\\-${KEY_EXTRA}]{0,127})\\1` +
    `(?:\\x1b\\[[0-9;]*m)*[ \\t]{0,8}(?:\\x1b\\[[0-9;]*m)*[:=](?!\\/\\/)`,
  'g',
);
const ANSI_RE = /\x1b\[[0-9;]*m/y;
const BEARER_RE = /\bBearer[ \t]+(?!\[REDACTED\])[A-Za-z0-9\-._~+/]+=*/gi;
const AUTH_SCHEMES: ReadonlySet<string> = new Set(['bearer', 'basic', 'digest', 'token']);

function skipSpaceAndAnsi(s: string, p: number): number {
  for (;;) {
    const c = s.charCodeAt(p);
    if (c === 32 || c === 9) {
      p++;
      continue;
    }
    if (c === 27) {
      ANSI_RE.lastIndex = p;
      if (ANSI_RE.test(s)) {
        p = ANSI_RE.lastIndex;
        continue;
      }
    }
    return p;
  }
}

function closingQuote(s: string, p: number, quote: number): number {
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c === 92 /* \ */) p++;
    else if (c === quote) return p;
  }
  return s.length;
}

/** End of a `{...}` / `[...]` value (quotes respected); the end of the text when unbalanced. */
function balancedEnd(s: string, p: number): number {
  let depth = 0;
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c === 34 || c === 39) p = closingQuote(s, p + 1, c);
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return p + 1;
    }
  }
  return s.length;
}

/** Not white space nor punctuation that follows a value in JSON or key=value text. */
function isWordChar(c: number): boolean {
  return c > 32 && c !== 44 /* , */ && c !== 59 /* ; */ && c !== 125 /* } */ && c !== 93 /* ] */ && c !== 41 /* ) */ && c !== 34 && c !== 39 && c !== 38 /* & */ && c !== 92 /* \ */;
}

/** An unquoted value runs to whitespace or an ANSI escape. */
function unquotedEnd(s: string, p: number): number {
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c <= 32) return p;
  }
  return p;
}
