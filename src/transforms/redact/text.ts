/**
 * Free-text masking: `key=value`, `key: value` and `"key": "value"` pairs whose key is sensitive,
 * and `Bearer <token>` / `Basic <credentials>` after an auth key. Used for tracing's `message`-like
 * fields and for passthrough text lines; URLs inside text are handled by urls.ts, which calls
 * back here for the text between them.
 */
import { REDACTED, type KeyClassifier, type SecretMask } from './keys';

export class TextMasker {
  /** Set by maskPairs: the segment ended where a sensitive key's value starts. */
  pendingValue = false;

  constructor(
    private readonly keys: KeyClassifier,
    private readonly mask: SecretMask = null,
  ) {}

  /**
   * Masks `key=value`, `key: value` and `"key": "value"` pairs with a sensitive key, and
   * `Bearer <token>`. Sets `pendingValue` when the text ends where a sensitive value starts.
   */
  maskPairs(s: string): string {
    this.pendingValue = false;
    if (s.length === 0) return s;
    let out = '';
    let copied = 0;
    if (s.indexOf('=') >= 0 || s.indexOf(':') >= 0) {
      const re = PAIR_KEY_RE;
      re.lastIndex = 0;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const key = m[2]!;
        if (!this.keys.isSensitiveKey(key)) {
          // Resume right after the key so `a:password=x` still finds `password`.
          re.lastIndex = m.index + m[0].length;
          continue;
        }
        const p = skipSpaceAndAnsi(s, m.index + m[0].length);
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
        const replacement = prefix + (this.mask === null ? REDACTED : this.mask(original.slice(prefix.length)));
        if (original !== replacement && !(prefix === '' && original === '' && suffix === '')) {
          out += s.slice(copied, valueStart) + replacement;
          copied = valueEnd;
        }
        re.lastIndex = Math.max(valueEnd + suffix.length, m.index + m[0].length);
        if (this.pendingValue) break;
      }
    }
    const result = copied === 0 ? s : out + s.slice(copied);
    if (!/bearer/i.test(result)) return result;
    const mask = this.mask;
    if (mask === null) return result.replace(BEARER_RE, 'Bearer ' + REDACTED);
    return result.replace(BEARER_RE, (m) => 'Bearer ' + mask(m.replace(/^Bearer[ \t]+/i, '')));
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
