/**
 * The walk over a value: every key checked (keys.ts), every string checked for embedded JSON (also
 * behind a BOM or a non-breaking space), URLs (urls.ts) and the free-text rules (text.ts);
 * containers nested deeper than maxDepth (embedded JSON strings count) become "[REDACTED]".
 * Containers are mutated in place and untouched values are never copied; integers beyond 2^53
 * (ExactNumber, util/exact-json.ts) are scalars, and embedded JSON keeps them exact.
 */
import { isExactNumber, parseJson, stringifyJson } from '../../util/exact-json';
import type { JsonObject, JsonValue } from '../../util/json';
import { isJsonObject } from '../../util/json';
import { KEY_HAS_URL, KEY_LOCATION, KEY_SENSITIVE, MASK_TOKEN_RE, normaliseKey, REDACTED, SECRET_CONFIG_PARAMETERS, type KeyClassifier, type Mask } from './keys';
import { maskCommandArray, maskPrivateKeyBlocks, maskRedisText, mayHoldCommand, mayHoldTextSecret, type TextMasker, type TextRules } from './text';
import type { RuleContext, ToolRule } from './tool-rules';
import { urlMark, type UrlMasker } from './urls';

export class Walker {
  private readonly rules: TextRules & RuleContext;

  constructor(
    private readonly keys: KeyClassifier,
    private readonly text: TextMasker,
    private readonly urls: UrlMasker,
    private readonly maxDepth: number,
    private readonly mask: Mask,
  ) {
    this.rules = {
      mask,
      isSensitiveKey: (name) => keys.isSensitiveKey(name),
      isSecretName: (name) => keys.isSensitiveKey(name) || SECRET_CONFIG_PARAMETERS.has(normaliseKey(name)),
      maskLocation: (rule, location) => this.maskLocation(rule, location),
    };
  }

  /**
   * Free text: PEM private keys, URL credentials, sensitive `key=value` / `key: value` pairs and
   * authorization headers, query parameters, Redis commands and config lines, command-line flags.
   */
  redactText(text: string): string {
    if (text.length === 0) return text;
    let out = this.redactPlainText(text);
    if (out.indexOf('%') >= 0 && ENCODED_TEXT_RE.test(out)) out = this.redactEncodedRuns(out, 0);
    if (out.indexOf('\\') >= 0 && out.indexOf('"') >= 0) out = this.redactEscapedStrings(out);
    if (out.indexOf('\x1b') < 0) return out;
    // Terminal escapes (colours) between a command or a name and its secret hide the secret from
    // the rules: the text is judged again without them, and written without them if that finds more.
    const bare = out.replace(TERMINAL_ESCAPE_RE, '');
    const again = this.redactPlainText(bare);
    return again === bare ? out : again;
  }

  /**
   * Runs of percent-encoded text (`redis%3A%2F%2Fu%3Apw%40h`, `password%3Dx`): decoded, redacted,
   * and encoded again when something was masked (a run that does not decode is left to the rules
   * that already ran on it).
   */
  private redactEncodedRuns(s: string, nest: number): string {
    return s.replace(ENCODED_RUN_RE, (run) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(run);
      } catch {
        return run;
      }
      let masked = this.redactPlainText(decoded);
      if (nest < 2 && masked.indexOf('%') >= 0 && ENCODED_TEXT_RE.test(masked)) masked = this.redactEncodedRuns(masked, nest + 1);
      return masked === decoded ? run : encodeURIComponent(masked);
    });
  }

  /**
   * Quoted strings with escapes in text (`output="1) \\"requirepass\\"\\n2) \\"x\\""` as tracing
   * writes a multi-line value): unescaped, redacted as text of their own, escaped again when
   * something was masked. Only `\\n`, `\\r`, `\\"` and `\\\\` are read (the escapes that JSON and
   * Rust's Debug share); any other escape is kept as written.
   */
  private redactEscapedStrings(s: string): string {
    return s.replace(ESCAPED_STRING_RE, (whole, inner: string) => {
      const decoded = inner.replace(SIMPLE_ESCAPE_RE, unescapeOne);
      const masked = this.redactPlainText(decoded);
      return masked === decoded ? whole : '"' + masked.replace(ESCAPE_BACK_RE, escapeOne) + '"';
    });
  }

  private redactPlainText(text: string): string {
    this.text.pendingValue = false;
    let s = maskPrivateKeyBlocks(text, this.rules);
    s = urlMark(s, 0) < 0 ? this.text.maskPairs(s) : this.urls.maskUrls(s, 0, true);
    s = this.text.maskEncodedParams(s);
    // `user:pass@host:port` and `//user:pass@host` without a scheme.
    if (s.indexOf('@') >= 0) s = this.urls.maskBareUserinfo(s, false);
    return mayHoldCommand(s) ? maskRedisText(s, this.rules) : s;
  }

  /**
   * A location (import/export URI, path): the text rules, URL credentials, and the userinfo of a
   * location written without a scheme (`user:pass@host/path`).
   */
  maskLocation(rule: string, location: string): string {
    // The userinfo first, whole (`[REDACTED]@host/path`), then the text rules on what is left.
    return this.redactText(this.urls.maskSchemelessUserinfo(rule, location));
  }

  walk(value: JsonValue, depth: number): JsonValue {
    if (typeof value === 'string') return this.redactString(value, depth);
    if (typeof value !== 'object' || value === null || isExactNumber(value)) return value;
    if (depth > this.maxDepth) return this.mask('max_depth', value);
    if (Array.isArray(value)) {
      // A Redis command as an array of strings: its secret operands by the command's grammar.
      if (value.length > 1 && typeof value[0] === 'string' && allStrings(value)) maskCommandArray(value as string[], this.rules);
      // `[name, value, …]` as CONFIG GET, HGETALL and ACL GETUSER reply in JSON.
      if (value.length > 1 && (value.length & 1) === 0) this.maskNamedPairs(value);
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

  /**
   * A flat list of `name, value` pairs (`["requirepass","x","maxmemory","0"]`, `[…,"passwords",
   * ["<sha256>"],…]`): the value after a secret name is masked, unless it is a secret name too
   * (then the list is one of names: `["password","token"]`).
   */
  private maskNamedPairs(items: JsonValue[]): void {
    for (let i = 0; i + 1 < items.length; i += 2) {
      const name = items[i];
      if (typeof name !== 'string' || !mayNameSecret(name) || !this.rules.isSecretName(name)) continue;
      const value = items[i + 1]!;
      if (value === REDACTED || value === null || (typeof value === 'string' && mayNameSecret(value) && this.rules.isSecretName(value))) continue;
      items[i + 1] = this.mask('reply_pair', value);
    }
  }

  walkObject(obj: JsonObject, depth: number): JsonValue {
    if (depth > this.maxDepth) return this.mask('max_depth', obj);
    let urlKeys = false;
    // for-in over a JSON.parse object walks V8's enum cache; JSON objects have no inherited
    // enumerable keys unless Object.prototype was polluted, which hasOwn guards against.
    for (const key in obj) {
      if (!Object.hasOwn(obj, key)) continue;
      const v = this.keys.verdict(key);
      const item = obj[key]!;
      if ((v & KEY_SENSITIVE) !== 0) {
        // JSON.parse makes `__proto__` an own data property, so a plain assignment updates it.
        if (item !== REDACTED) {
          const masked = this.mask('sensitive_key', item);
          if (masked !== item) obj[key] = masked;
        }
        continue;
      }
      if ((v & KEY_HAS_URL) !== 0) urlKeys = true;
      let out: JsonValue;
      if (typeof item === 'string') {
        out = this.redactString(item, depth + 1);
        // A location's value may be `user:pass@host` without a scheme (`token@host:6379` too).
        if ((v & KEY_LOCATION) !== 0 && typeof out === 'string' && out.indexOf('@') >= 0) out = this.urls.maskBareUserinfo(out, true);
      } else if (typeof item === 'object' && item !== null) out = this.walk(item, depth + 1);
      else continue;
      if (out !== item) obj[key] = out;
    }
    if (urlKeys) this.maskUrlKeys(obj, Object.keys(obj));
    return obj;
  }

  /** A key holding a URL with credentials is renamed in place, keeping the key order. */
  private maskUrlKeys(obj: JsonObject, keys: string[]): void {
    const masked = keys.map((k) => this.urls.maskUrls(k, 0, false));
    if (masked.every((k, i) => k === keys[i])) return;
    const values = keys.map((k) => obj[k]!);
    for (const k of keys) delete obj[k];
    for (let i = 0; i < keys.length; i++) defineOwn(obj, masked[i]!, values[i]!);
  }

  /** Every string gets the text rules; one that holds JSON is parsed and redacted as JSON. */
  private redactString(s: string, depth: number): JsonValue {
    if (s.length === 0 || s === REDACTED) return s;
    let c = s.charCodeAt(0);
    if (c <= 32 || c === 0xfeff || c === 0xa0) {
      const start = jsonStart(s);
      const first = start < s.length ? s.charCodeAt(start) : -1;
      if ((first === 123 || first === 91) && hasForeignSpace(s, start)) {
        // JSON behind a BOM or a non-breaking space (which JSON.parse refuses) is still JSON.
        const out = this.redactEmbeddedJson(s.slice(start), depth);
        return typeof out === 'string' && out !== REDACTED ? s.slice(0, start) + out : out;
      }
      c = first;
    }
    // A keyed mask token (`[REDACTED:hmac-sha256:…]`) is already redacted.
    if (c === 91 /* [ */ && MASK_TOKEN_RE.test(s)) return s;
    if (c === 123 /* { */ || c === 91 /* [ */) return this.redactEmbeddedJson(s, depth);
    if (c === 34 /* " */ && s.length > 1 && s.charCodeAt(s.length - 1) === 34) {
      // A JSON string literal (double-encoded JSON, `"{\"password\":...}"`) is decoded and redacted too.
      const inner = decodeJsonString(s);
      if (inner !== null) {
        if (depth > this.maxDepth) return this.mask('max_depth', s);
        const out = this.redactString(inner, depth + 1);
        return out === inner ? s : out === REDACTED ? out : JSON.stringify(out);
      }
    }
    if (!mayHoldTextSecret(s)) return s;
    // A Redis key or a colon list (`lb:weekly`, `rate:api:10.0.0.1`): only a `key:value` pair can
    // be in it, so the text rules run only when a word before a colon is a sensitive key.
    // One with an `@` may be `user:pass@host:port`.
    if (isColonList(s) && !this.sensitiveBeforeColon(s) && s.indexOf('@') < 0) return s;
    return this.redactText(s);
  }

  private sensitiveBeforeColon(s: string): boolean {
    for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) {
      let from = i;
      while (from > 0 && i - from < 128 && isKeyChar(s.charCodeAt(from - 1))) from--;
      if (from < i && this.keys.isSensitiveKey(s.slice(from, i))) return true;
    }
    return false;
  }

  /** A string holding JSON is parsed, redacted and re-serialised (never copied through raw). */
  private redactEmbeddedJson(s: string, depth: number): JsonValue {
    let parsed: JsonValue;
    try {
      parsed = parseJson(s);
    } catch {
      // Looks like JSON but is not. With a quote in it, JSON semantics (escaped or duplicate
      // keys) could hide a secret from text masking: fail closed. Without quotes it holds no
      // JSON keys or strings, so text masking ("[1/3] step", "{password=x}") is enough.
      if (s.indexOf('"') >= 0) return this.mask('unparseable_json', s);
      return this.redactText(s);
    }
    const out = this.walk(parsed, depth + 1);
    return typeof out === 'string' ? out : stringifyJson(out);
  }

  /** A tool's arguments (a JSON string or an object): the generic walk, then the tool's rule. */
  redactToolArguments(rule: ToolRule, value: JsonValue, depth: number): JsonValue {
    let args: JsonValue = value;
    let embedded = false;
    let prefix = '';
    if (typeof value === 'string') {
      if (value === REDACTED) return value;
      // Arguments behind a BOM or a non-breaking space are the same arguments.
      const start = jsonStart(value);
      if (start > 0 && start < value.length && hasForeignSpace(value, start)) prefix = value.slice(0, start);
      try {
        args = parseJson(prefix === '' ? value : value.slice(start));
        embedded = true;
      } catch {
        return rule.strict ? this.mask('tool_arguments', value) : this.walk(value, depth);
      }
    }
    if (!isJsonObject(args)) {
      // redisctl-mcp: raw-command arguments that are not an object are redacted whole.
      if (rule.strict) return this.mask('tool_arguments', value);
      return embedded ? this.walk(value, depth) : this.walk(args, depth);
    }
    const out = this.walk(args, embedded ? depth + 1 : depth);
    if (!isJsonObject(out)) return this.mask('tool_arguments', value);
    rule.apply(out, this.rules);
    return embedded ? prefix + stringifyJson(out) : out;
  }
}

/** Defines an own enumerable property, even one called `__proto__`, without touching prototypes. */
function defineOwn(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Characters that may stand before JSON in a string: JSON white space, a BOM, Unicode spaces. */
function isLeadingSpace(c: number): boolean {
  return (
    c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200b) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/** Index of the first character that is not leading space (the string's length when none). */
function jsonStart(s: string): number {
  let i = 0;
  while (i < s.length && isLeadingSpace(s.charCodeAt(i))) i++;
  return i;
}

/** True when s[0, end) holds a character that JSON.parse does not take as white space. */
function hasForeignSpace(s: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return true;
  }
  return false;
}

/** A "…" string in text holding at least one backslash escape (no raw newline in it). */
const ESCAPED_STRING_RE = /"((?:[^"\\\n]|\\.)*?\\[nr"\\](?:[^"\\\n]|\\.)*)"/g;
const SIMPLE_ESCAPE_RE = /\\([nr"\\])/g;
/** `\\\\` decodes to a private-use character, so that a backslash left in the text is one of an escape kept as written. */
const BACKSLASH = '\ue000';
const ESCAPE_BACK_RE = /[\n\r"\ue000]/g;

function unescapeOne(_m: string, c: string): string {
  return c === 'n' ? '\n' : c === 'r' ? '\r' : c === '"' ? '"' : BACKSLASH;
}

function escapeOne(c: string): string {
  return c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '"' ? '\\"' : '\\\\';
}

/** Percent-encoded `:`, `=`, `@` or `/`: what an encoded URL or pair holds. */
const ENCODED_TEXT_RE = /%(?:3[AaDd]|40|2[Ff])/;
const ENCODED_RUN_RE = /[^\s"'<>`]*%(?:3[AaDd]|40|2[Ff])[^\s"'<>`]*/g;
/** CSI (colours, cursor), OSC (titles, links) and two-character escape sequences. */
const TERMINAL_ESCAPE_RE = /\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;

/** A cheap test before the key rules: a short name holding a credential word's letters. */
const SECRET_NAME_GATE_RE = /pass|pw|auth|secret|token|key|cred|cookie|otp|pin|jwt|bearer|priv|cert/i;

function mayNameSecret(s: string): boolean {
  return s.length > 1 && s.length <= 64 && SECRET_NAME_GATE_RE.test(s);
}

function allStrings(a: JsonValue[]): boolean {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'string') return false;
  return true;
}

/** No blank, control, quote, backslash, `=`, `%`, `/` or non-ASCII: words and colons only. */
function isColonList(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 34 || c === 39 || c === 92 || c === 61 || c === 37 || c === 47) return false;
  }
  return true;
}

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

function decodeJsonString(s: string): string | null {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
