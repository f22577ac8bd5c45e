/**
 * The walk over a value: every key checked (keys.ts), every string checked for embedded JSON,
 * URLs (urls.ts) and — under text-like keys — key=value text (text.ts); containers nested deeper
 * than maxDepth (embedded JSON strings count) become "[REDACTED]". Containers are mutated in place
 * and untouched values are never copied.
 */
import type { JsonObject, JsonValue } from '../../util/json';
import { isJsonObject } from '../../util/json';
import { KEY_HAS_URL, KEY_SENSITIVE, KEY_TEXT, MASK_TOKEN_RE, REDACTED, type KeyClassifier, type SecretMask } from './keys';
import type { TextMasker } from './text';
import type { ToolRule } from './tool-rules';
import { urlMark, type UrlMasker } from './urls';

export class Walker {
  constructor(
    private readonly keys: KeyClassifier,
    private readonly text: TextMasker,
    private readonly urls: UrlMasker,
    private readonly maxDepth: number,
    private readonly mask: SecretMask = null,
  ) {}

  /** Free text: key=value pairs and URLs. */
  redactText(text: string): string {
    if (text.length === 0) return text;
    this.text.pendingValue = false;
    if (urlMark(text, 0) < 0) return this.text.maskPairs(text);
    return this.urls.maskUrls(text, 0, true);
  }

  walk(value: JsonValue, depth: number): JsonValue {
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

  walkObject(obj: JsonObject, depth: number): JsonValue {
    if (depth > this.maxDepth) return REDACTED;
    let urlKeys = false;
    // for-in over a JSON.parse object walks V8's enum cache; JSON objects have no inherited
    // enumerable keys unless Object.prototype was polluted, which hasOwn guards against.
    for (const key in obj) {
      if (!Object.hasOwn(obj, key)) continue;
      const v = this.keys.verdict(key);
      const item = obj[key]!;
      if ((v & KEY_SENSITIVE) !== 0) {
        // JSON.parse makes `__proto__` an own data property, so a plain assignment updates it.
        if (this.mask === null) {
          if (item !== REDACTED) obj[key] = REDACTED;
        } else {
          const masked = this.mask(item);
          if (masked !== item) obj[key] = masked;
        }
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
    const masked = keys.map((k) => this.urls.maskUrls(k, 0, false));
    if (masked.every((k, i) => k === keys[i])) return;
    const values = keys.map((k) => obj[k]!);
    for (const k of keys) delete obj[k];
    for (let i = 0; i < keys.length; i++) defineOwn(obj, masked[i]!, values[i]!);
  }

  private redactString(s: string, depth: number, text: boolean): JsonValue {
    if (s.length === 0 || s === REDACTED) return s;
    let c = s.charCodeAt(0);
    if (c <= 32) c = firstNonSpace(s);
    if (c === 91 /* [ */ && MASK_TOKEN_RE.test(s)) return s;
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
    return urlMark(s, 0) < 0 ? s : this.urls.maskUrls(s, 0, false);
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

  /** A tool's arguments (a JSON string or an object): the generic walk, then the tool's rule. */
  redactToolArguments(rule: ToolRule, value: JsonValue, depth: number): JsonValue {
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
    rule.apply(out, this.mask);
    return embedded ? JSON.stringify(out) : out;
  }
}

/** Defines an own enumerable property, even one called `__proto__`, without touching prototypes. */
function defineOwn(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function firstNonSpace(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return c;
  }
  return -1;
}

function decodeJsonString(s: string): string | null {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
