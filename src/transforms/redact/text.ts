/**
 * Secrets in free text, wherever a string holds them:
 * - `key=value`, `key: value` and `"key": "value"` pairs whose key is sensitive, `Bearer <token>` /
 *   `Basic <credentials>` after an auth key, query parameters in paths without a scheme
 *   (`/v1/x?api_key=…&page=2`, percent-encoded names too); URLs inside text are handled by
 *   urls.ts, which calls back here for the text between them;
 * - PEM private-key blocks (`-----BEGIN … PRIVATE KEY-----`);
 * - Redis commands (AUTH, HELLO … AUTH, MIGRATE … AUTH | AUTH2, ACL SETUSER … >pass, CONFIG SET
 *   <secret> value, SENTINEL …), `name value` after a secret-bearing config name (redis.conf
 *   lines, CONFIG GET output as redis-cli prints it), ACL rules (`user default on #hash`);
 * - command-line flags (`--password x`, `--api-key=x`, `redis-cli -a x`).
 *
 * Every function returns its input (the same string) when nothing was masked, and writes masks
 * only through the Mask it is given, with the rule's name.
 */
import { REDACTED, type KeyClassifier, type Mask } from './keys';

export class TextMasker {
  /** Set by maskPairs: the segment ended where a sensitive key's value starts. */
  pendingValue = false;

  constructor(
    private readonly keys: KeyClassifier,
    private readonly mask: Mask,
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
        // After `?`, `&`, `#` or `;` the pair is a query parameter (`/v1/x?api_key=v&page=2`):
        // the parameter names of URLs count, and the value ends at the next parameter.
        const before = m.index > 0 ? s.charCodeAt(m.index - 1) : 0;
        const query = m[1] === '' && (before === 63 || before === 38 || before === 35 || before === 59) && s.charCodeAt(m.index + m[0].length - 1) === 61;
        if (!(query ? this.keys.sensitiveUrlParam(key) : this.keys.isSensitiveKey(key))) {
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
        } else if (query) {
          valueEnd = paramEnd(s, p);
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
        const secret = original.slice(prefix.length);
        if (secret !== REDACTED && !(prefix === '' && original === '' && suffix === '')) {
          out += s.slice(copied, valueStart) + prefix + this.mask(prefix === '' ? 'sensitive_pair' : 'authorization', secret);
          copied = valueEnd;
        }
        re.lastIndex = Math.max(valueEnd + suffix.length, m.index + m[0].length);
        if (this.pendingValue) break;
      }
    }
    const result = copied === 0 ? s : out + s.slice(copied);
    return /bearer/i.test(result) ? result.replace(BEARER_RE, (_m, token: string) => 'Bearer ' + this.mask('authorization', token)) : result;
  }

  /** Query parameters whose names are percent-encoded (`?p%61ssword=x`), outside URLs. */
  maskEncodedParams(s: string): string {
    if (s.indexOf('%') < 0) return s;
    ENCODED_PARAM_RE.lastIndex = 0;
    return s.replace(ENCODED_PARAM_RE, (whole, lead: string, name: string, value: string) => {
      const decoded = decodeParamName(name);
      if (decoded === null || value === REDACTED || value === 'redacted' || value === '' || !this.keys.sensitiveUrlParam(decoded)) return whole;
      return `${lead}${name}=${this.mask('sensitive_pair', value)}`;
    });
  }
}

function decodeParamName(s: string): string | null {
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
const KEY_EXTRA =
  '\u00a0-\u024f\u0370-\u03ff\u0400-\u04ff\u0530-\u058f\u200b-\u200f\u2060\ufeff\uff00-\uffef' +
  // Control characters (not ESC, which starts the colour codes): `password\0=x` is one key.
  '\\x00-\\x08\\x0b\\x0c\\x0e-\\x1a\\x1c-\\x1f\\x7f';

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

const BEARER_RE = /\bBearer[ \t]+(?!\[REDACTED\])([A-Za-z0-9\-._~+/]+=*)/gi;

const ENCODED_PARAM_RE = /([?&#;])([^=&#;\s"'<>]*%[0-9A-Fa-f]{2}[^=&#;\s"'<>]*)=([^&#;\s"'<>]*)/g;

const AUTH_SCHEMES: ReadonlySet<string> = new Set(['bearer', 'basic', 'digest', 'token']);

function skipSpaceAndAnsi(s: string, p: number): number {
  for (;;) {
    const c = s.charCodeAt(p);
    // Blanks and control characters (a NUL between the separator and the value), not newlines.
    if (c === 32 || (c <= 31 && c !== 10 && c !== 13 && c !== 27) || c === 127) {
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

/** A query parameter's value runs to the next parameter, fragment, quote or blank. */
function paramEnd(s: string, p: number): number {
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c <= 32 || c === 38 /* & */ || c === 35 /* # */ || c === 59 /* ; */ || c === 34 || c === 39 || c === 60 || c === 62) return p;
  }
  return p;
}

/** An unquoted value runs to whitespace or an ANSI escape. */
function unquotedEnd(s: string, p: number): number {
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c <= 32) return p;
  }
  return p;
}

/**
 * False when a string cannot hold a secret the text rules find: every pair, header, command,
 * flag and query parameter needs a blank, `=`, `:`, `%` or a control character next to it, and
 * a scheme-relative URL's userinfo `//` and `@`.
 */
export function mayHoldTextSecret(s: string): boolean {
  if (s.length < 4) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 61 /* = */ || c === 37 /* % */ || c === 127) return true;
    // `key:value`, but not the colons of a time or a number (`10:30:00`).
    if (c === 58 /* : */ && !(i > 0 && isDigitCode(s.charCodeAt(i - 1)) && isDigitCode(s.charCodeAt(i + 1)))) return true;
  }
  // `//token@host/path`: a scheme-relative URL's userinfo needs no colon.
  return s.indexOf('@') > 1 && s.indexOf('//') >= 0;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

const COMMAND_GATE_RE = /auth|hello|migrate|acl|config|sentinel|user|pass|-a |-u |--|[0-9][)#] "/i;

/** False when the text has nothing the Redis and flag rules look for. */
export function mayHoldCommand(s: string): boolean {
  return s.length >= 6 && (s.indexOf(' ') >= 0 || s.indexOf('\t') >= 0 || s.indexOf('\n') >= 0) && COMMAND_GATE_RE.test(s);
}

/** What the command, PEM and flag rules need: the mask and the key rules. */
export interface TextRules {
  mask: Mask;
  isSensitiveKey(name: string): boolean;
  /** A sensitive key, or a secret-bearing Redis config parameter (`tls-key-file-pass`). */
  isSecretName(name: string): boolean;
}

// ---- PEM private keys ----

const PEM_RE = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g;

/** The body of every `-----BEGIN … PRIVATE KEY-----` block, up to its END line or the end of the text. */
export function maskPrivateKeyBlocks(s: string, m: TextRules): string {
  if (s.indexOf('PRIVATE KEY') < 0) return s;
  PEM_RE.lastIndex = 0;
  let out = '';
  let copied = 0;
  for (let match = PEM_RE.exec(s); match !== null; match = PEM_RE.exec(s)) {
    const bodyStart = match.index + match[0].length;
    const endLine = `-----END ${match[1]}-----`;
    const end = s.indexOf(endLine, bodyStart);
    const bodyEnd = end < 0 ? s.length : end;
    const body = s.slice(bodyStart, bodyEnd);
    const masked = body === REDACTED ? body : m.mask('pem_private_key', body);
    if (masked !== body) {
      out += s.slice(copied, bodyStart) + masked;
      copied = bodyEnd;
    }
    PEM_RE.lastIndex = end < 0 ? s.length : end + endLine.length;
  }
  return copied === 0 ? s : out + s.slice(copied);
}

// ---- tokens ----

interface Token {
  /** Where the token starts and ends in the text (quotes included). */
  start: number;
  end: number;
  /** Its content range (inside quotes), and the content. */
  from: number;
  to: number;
  text: string;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Tokens of one command, redis-cli style ("…" with escapes, '…'), from `p` to `lineEnd` or to a
 * `;` or `|` that ends the command in text (`AUTH x; then …`).
 */
function tokenize(s: string, p: number, lineEnd: number): Token[] {
  const tokens: Token[] = [];
  while (p < lineEnd) {
    const last = tokens[tokens.length - 1];
    if (last !== undefined && (s.charCodeAt(last.end - 1) === 59 || s.charCodeAt(p) === 59 || s.charCodeAt(p) === 124)) break;
    while (p < lineEnd && isBlank(s.charCodeAt(p))) p++;
    if (p >= lineEnd) break;
    const start = p;
    const q = s.charCodeAt(p);
    if (q === 34 || q === 39) {
      let e = p + 1;
      while (e < lineEnd && s.charCodeAt(e) !== q) e += s.charCodeAt(e) === 92 && q === 34 ? 2 : 1;
      const to = Math.min(e, lineEnd);
      tokens.push({ start, end: Math.min(e + 1, lineEnd), from: start + 1, to, text: s.slice(start + 1, to) });
      p = e + 1;
      continue;
    }
    while (p < lineEnd && !isBlank(s.charCodeAt(p))) p++;
    // A trailing separator (`AUTH x;`) is not part of the operand.
    let to = p;
    while (to > start + 1 && isTrailing(s.charCodeAt(to - 1))) to--;
    tokens.push({ start, end: p, from: start, to, text: s.slice(start, to) });
  }
  return tokens;
}

function isTrailing(c: number): boolean {
  return c === 59 /* ; */ || c === 44 /* , */ || c === 41 /* ) */ || c === 96 /* ` */ || c === 34 || c === 39;
}

class Edits {
  private readonly spans: [number, number, string][] = [];
  constructor(
    private readonly s: string,
    private readonly m: TextRules,
  ) {}

  /** Masks a token's content (after `skip` prefix characters, as the `>` of an ACL rule). */
  token(rule: string, t: Token | undefined, skip = 0): void {
    if (t === undefined) return;
    const from = t.from + skip;
    if (from >= t.to) return;
    const secret = this.s.slice(from, t.to);
    if (secret === REDACTED) return;
    this.spans.push([from, t.to, this.m.mask(rule, secret)]);
  }

  apply(): string {
    if (this.spans.length === 0) return this.s;
    this.spans.sort((a, b) => a[0] - b[0]);
    let out = '';
    let copied = 0;
    for (const [from, to, text] of this.spans) {
      if (from < copied) continue;
      out += this.s.slice(copied, from) + text;
      copied = to;
    }
    return out + this.s.slice(copied);
  }
}

const upper = (t: Token | undefined): string => (t === undefined ? '' : t.text.toUpperCase());

function isSecretParameter(name: string, m: TextRules): boolean {
  return m.isSecretName(name);
}

/** ACL rules: `>pass`, `<pass` (add/remove a password), `#hash`, `!hash` (by SHA-256). */
/** Where masks of command operands go: a string's spans, or an array's items. */
interface OperandSink {
  token(rule: string, t: Token | undefined, skip?: number): void;
}

function maskAclRules(e: OperandSink, tokens: Token[], from: number): void {
  for (let i = from; i < tokens.length; i++) {
    const c = tokens[i]!.text.charCodeAt(0);
    if (c === 62 /* > */ || c === 60 /* < */ || c === 35 /* # */ || c === 33 /* ! */) e.token('redis_acl_rule', tokens[i], 1);
  }
}

/** `name value` pairs (CONFIG SET, SENTINEL SET): values of secret parameters. */
function maskParameterPairs(e: OperandSink, tokens: Token[], from: number, m: TextRules): void {
  for (let i = from; i + 1 < tokens.length; i += 2) if (isSecretParameter(tokens[i]!.text, m)) e.token('redis_config_set', tokens[i + 1]);
}

/**
 * One Redis command's operands. `exact`: the tokens are the whole command (a command-like key, or
 * a command at the start of a line), so AUTH's username can be told from its password.
 */
function maskCommand(e: OperandSink, name: string, t: Token[], exact: boolean, capitals: boolean, m: TextRules): void {
  switch (name) {
    case 'AUTH':
      // AUTH password | AUTH username password. In lower case it is a command only when it has
      // that shape (`auth failed for user bob` is prose).
      if (!capitals && t.length > 2) return;
      if (exact && t.length === 2) e.token('redis_auth', t[1]);
      else {
        e.token('redis_auth', t[0]);
        if (!exact || t.length > 2) e.token('redis_auth', t[1]);
      }
      return;
    case 'AUTH2':
      e.token('redis_auth', t.length === 1 ? t[0] : t[1]);
      return;
    case 'HELLO':
      for (let i = 0; i < t.length; i++) {
        if (upper(t[i]) === 'AUTH') {
          e.token('redis_auth', t[i + 2] ?? t[i + 1]);
          return;
        }
      }
      return;
    case 'MIGRATE':
      for (let i = 0; i < t.length; i++) {
        const w = upper(t[i]);
        if (w === 'AUTH') e.token('redis_auth', t[i + 1]);
        else if (w === 'AUTH2') e.token('redis_auth', t[i + 2] ?? t[i + 1]);
      }
      return;
    case 'ACL':
      if (upper(t[0]) === 'SETUSER') maskAclRules(e, t, 2);
      return;
    case 'USER':
      // An ACL file line or ACL LIST output: user <name> <rules…>
      maskAclRules(e, t, 1);
      return;
    case 'CONFIG':
      if (upper(t[0]) === 'SET') maskParameterPairs(e, t, 1, m);
      return;
    case 'SENTINEL': {
      const sub = upper(t[0]);
      if (sub === 'SET') maskParameterPairs(e, t, 2, m);
      else if (sub === 'CONFIG' && upper(t[1]) === 'SET') maskParameterPairs(e, t, 2, m);
      // sentinel.conf: sentinel auth-pass <master> <password>, sentinel sentinel-pass <password>
      else if (sub === 'AUTH-PASS') e.token('redis_config_set', t[2]);
      else if (sub === 'SENTINEL-PASS') e.token('redis_config_set', t[1]);
      return;
    }
  }
}

const COMMAND_RE = /(AUTH2?|HELLO|MIGRATE|ACL|CONFIG|SENTINEL|user)(?=[ \t])/gi;
const CONFIG_NAME_RE = /(?<![\w-])(requirepass|masterauth|primaryauth|tls-key-file-pass|tls-client-key-file-pass|sentinel-pass)(?![\w-])/gi;
const FLAG_RE = /(?<=^|[\s"'`])(--?)([A-Za-z][\w-]{0,63})(?:=|[ \t]+)(?=\S)/g;
const CLI_RE = /(?:redis|valkey|keydb)-cli\b/;

/**
 * Whether `at` starts a line, or an item of redis-cli output on a line of its own (`1) "user …`,
 * `   2) "user …` as ACL LIST prints it, or a quoted line).
 */
function atListItemStart(s: string, at: number): boolean {
  let p = at - 1;
  if (p >= 0 && s.charCodeAt(p) === 34 /* " */) p--;
  for (;;) {
    while (p >= 0 && isBlank(s.charCodeAt(p))) p--;
    // A line break, or one written as `\n` inside an escaped string.
    if (p < 0 || s.charCodeAt(p) === 10 || s.charCodeAt(p) === 13 || (s.charCodeAt(p) === 110 && s.charCodeAt(p - 1) === 92)) return true;
    if (s.charCodeAt(p) !== 41 /* ) */ || p === 0 || !isDigitCode(s.charCodeAt(p - 1))) return false;
    p--;
    while (p >= 0 && isDigitCode(s.charCodeAt(p))) p--;
  }
}

/** Words that follow `auth` in prose (`auth failed`, `Auth ok`), never a password. */
const PROSE_AFTER_AUTH: ReadonlySet<string> = new Set([
  'ok', 'okay', 'failed', 'failure', 'fails', 'error', 'errors', 'err', 'succeeded', 'success', 'successful', 'done',
  'required', 'denied', 'timeout', 'disabled', 'enabled', 'missing', 'invalid', 'expired', 'refused', 'rejected',
  'pending', 'skipped', 'complete', 'completed', 'started', 'is', 'was', 'for', 'with', 'to', 'the', 'and', 'or',
]);

function isAuthShape(t: Token[]): boolean {
  if (t.length < 1 || t.length > 2) return false;
  const last = t[t.length - 1]!.text.toLowerCase().replace(/[.!?:]+$/, '');
  return !PROSE_AFTER_AUTH.has(last) && !(t.length === 2 && PROSE_AFTER_AUTH.has(t[0]!.text.toLowerCase()));
}

/** Whether the text before `at` (skipping blanks) ends where a command can start. */
function atCommandStart(s: string, at: number): boolean {
  let p = at - 1;
  while (p >= 0 && isBlank(s.charCodeAt(p))) p--;
  if (p < 0) return true;
  const c = s[p]!;
  return '\n\r>`"\'$:;|(='.includes(c);
}

function lineEndFrom(s: string, p: number): number {
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c === 10 || c === 13) return p;
  }
  return s.length;
}

/**
 * Redis commands and config lines in `s`. A command name counts when it is written in capitals,
 * or when it starts the text, a line, or follows a prompt, quote or colon (`redis> auth x`); a
 * `user` ACL line only at the start of a line, as ACL files and ACL LIST write it.
 */
export function maskRedisText(s: string, m: TextRules): string {
  if (s.length < 6) return s;
  const e = new Edits(s, m);
  COMMAND_RE.lastIndex = 0;
  for (let match = COMMAND_RE.exec(s); match !== null; match = COMMAND_RE.exec(s)) {
    const at = match.index;
    if (at > 0 && /[\w.-]/.test(s[at - 1]!)) continue;
    const word = match[1]!;
    const name = word.toUpperCase();
    // Mixed case (`aUtH`) is no prose spelling: it counts as capitals.
    const capitals = word === name || (word !== word.toLowerCase() && word.slice(1) !== word.slice(1).toLowerCase());
    const start = atCommandStart(s, at);
    if (name === 'USER' && (word !== 'user' || !atListItemStart(s, at))) continue;
    const lineEnd = lineEndFrom(s, at);
    const tokens = tokenize(s, at + word.length, lineEnd);
    // `sent auth hunter2` in prose: AUTH in lower case with the shape of the command (one or two
    // operands to the end of the command) is one, unless its operand is a word of prose (`Auth ok`).
    if (name !== 'USER' && !capitals && (name === 'AUTH' ? !isAuthShape(tokens) : !start)) continue;
    maskCommand(e, name, tokens, start, capitals, m);
    // The command's operands are done with (HELLO 3 AUTH … is not read again as AUTH …).
    COMMAND_RE.lastIndex = Math.max(at + word.length, tokens.length > 0 ? tokens[tokens.length - 1]!.end : 0);
  }
  maskConfigValues(s, e);
  if (s.indexOf('"') >= 0) maskNamedReplyValues(s, e, m);
  maskFlags(s, e, m);
  return e.apply();
}

/**
 * A reply as redis-cli prints it, whose item names a secret: the value after it is masked, with
 * everything nested in it. `3) "passwords"` / `4) 1) "<sha256>"` / `   2) "<sha256>"` (ACL
 * GETUSER), `1) "requirepass"` / `2) "x"` (CONFIG GET), `3) "password"` / `4) "x"` (HGETALL), and
 * RESP3 maps (`1# "passwords" => 1) "<sha256>"`). Names are the odd items of a list (a map's keys).
 */
function maskNamedReplyValues(s: string, e: Edits, m: TextRules): void {
  NAMED_ITEM_RE.lastIndex = 0;
  for (let match = NAMED_ITEM_RE.exec(s); match !== null; match = NAMED_ITEM_RE.exec(s)) {
    const name = match[4]!;
    const map = match[3] === '#';
    if ((!map && Number(match[2]) % 2 === 0) || !isSecretParameter(name, m)) continue;
    const column = match[1]!.length;
    let p = match.index + match[0].length;
    let lineEnd = lineEndFrom(s, p);
    if (map) {
      // `=> value` on the same line.
      maskQuoted(s, p, lineEnd, e);
    } else {
      // The value is the next item: the next line, numbered at the same column.
      p = nextLine(s, lineEnd);
      if (p < 0) continue;
      lineEnd = lineEndFrom(s, p);
      const item = /^[ \t]*[0-9]+\)/.exec(s.slice(p, Math.min(lineEnd, p + column + 16)));
      if (item === null || item[0].length - item[0].trimStart().length !== column) continue;
      maskQuoted(s, p + item[0].length, lineEnd, e);
    }
    // Lines indented past the name's column are nested in the value.
    for (p = nextLine(s, lineEnd); p >= 0; p = nextLine(s, lineEnd)) {
      lineEnd = lineEndFrom(s, p);
      let q = p;
      while (q < lineEnd && isBlank(s.charCodeAt(q))) q++;
      if (q - p <= column || q === lineEnd) break;
      maskQuoted(s, q, lineEnd, e);
    }
    NAMED_ITEM_RE.lastIndex = Math.max(NAMED_ITEM_RE.lastIndex, lineEnd);
  }
}

/** An item that is a quoted name alone on its line (`3) "passwords"`, `  2) 1) "x"`, `1# "x" =>`). */
const NAMED_ITEM_RE = /^([ \t]*(?:[0-9]+[)#~][ \t]+)*)([0-9]+)([)#])[ \t]+"([^"\\\r\n]{1,128})"(?:[ \t]*(?=\r?$)|[ \t]+=>[ \t]*)/gm;

/** Where the line after the one ending at `lineEnd` starts, or -1 at the end of the text. */
function nextLine(s: string, lineEnd: number): number {
  let p = lineEnd;
  if (s.charCodeAt(p) === 13) p++;
  if (s.charCodeAt(p) === 10) p++;
  return p > lineEnd && p < s.length ? p : -1;
}

/** Masks the content of every "…" string in s[p, end). */
function maskQuoted(s: string, p: number, end: number, e: Edits): void {
  for (let q = s.indexOf('"', p); q >= 0 && q < end; q = s.indexOf('"', q + 1)) {
    const close = Math.min(closingQuote(s, q + 1, 34), end);
    e.token('redis_reply_value', { start: q, end: close + 1, from: q + 1, to: close, text: s.slice(q + 1, close) });
    q = close;
  }
}

/**
 * The value after a secret-bearing config name: `requirepass x` (redis.conf), `masterauth: x`,
 * `1) "requirepass"` / `2) "x"` (CONFIG GET as redis-cli prints it).
 */
function maskConfigValues(s: string, e: Edits): void {
  CONFIG_NAME_RE.lastIndex = 0;
  for (let match = CONFIG_NAME_RE.exec(s); match !== null; match = CONFIG_NAME_RE.exec(s)) {
    let p = match.index + match[0].length;
    while (s[p] === '"' || s[p] === "'" || (s[p] === '\\' && (s[p + 1] === '"' || s[p + 1] === '\\'))) p++;
    while (p < s.length && isBlank(s.charCodeAt(p))) p++;
    if (s[p] === ',' || s[p] === ';' || s[p] === '&') {
      // The name as a parameter's value, then the value's own pair (`parameter=requirepass,
      // value=x`, `{"parameter": "requirepass", "value": "x"}` echoed in a message).
      VALUE_PAIR_RE.lastIndex = p + 1;
      const pair = VALUE_PAIR_RE.exec(s);
      if (pair !== null) maskPairValue(s, VALUE_PAIR_RE.lastIndex, e);
      continue;
    }
    if (s[p] === ':' || s[p] === '=') p++;
    while (p < s.length && isBlank(s.charCodeAt(p))) p++;
    if (s[p] === '\r') p++;
    // A line break, or one written as `\n` inside an escaped string (`out="1) \"requirepass\"\n2) \"x\""`).
    const escapedBreak = s[p] === '\\' && s[p + 1] === 'n';
    if (s[p] === '\n' || escapedBreak) {
      // redis-cli: the value is the next numbered line; without numbers (--raw, or not a
      // terminal), the next line.
      p += escapedBreak ? 2 : 1;
      const numbered = /^[ \t]*[0-9]+\)[ \t]*/.exec(s.slice(p, p + 16));
      if (numbered !== null) p += numbered[0].length;
      else if (!aloneOnLine(s, match.index)) continue;
    }
    if (p >= s.length) continue;
    if (s[p] === '\\' && s[p + 1] === '"') {
      // An escaped quoted value: up to the next `\"`.
      const close = s.indexOf('\\"', p + 2);
      const to = close < 0 ? lineEndFrom(s, p) : close;
      e.token('redis_config_value', { start: p, end: to, from: p + 2, to, text: s.slice(p + 2, to) });
      continue;
    }
    e.token('redis_config_value', tokenize(s, p, lineEndFrom(s, p))[0]);
  }
}

/** After `, `: a `value` pair (`value=`, `"value": `, `\"value\":`), up to its value. */
const VALUE_PAIR_RE = /[ \t]*(?:\\*["'])?(?:value|val|new_value|newvalue|setting)(?:\\*["'])?[ \t]*[:=][ \t]*/iy;

/** The value at `p`: quoted (escaped quotes too) or up to a separator; its content masked. */
function maskPairValue(s: string, p: number, e: Edits): void {
  let q = p;
  while (s.charCodeAt(q) === 92 /* \ */) q++;
  const c = s.charCodeAt(q);
  let from = p;
  let to: number;
  if (c === 34 || c === 39) {
    from = q + 1;
    const delimiter = s.slice(p, q + 1);
    to = q === p ? closingQuote(s, from, c) : s.indexOf(delimiter, from);
    if (to < 0) to = s.length;
  } else {
    to = p;
    while (to < s.length && !VALUE_END.has(s.charCodeAt(to))) to++;
  }
  e.token('redis_config_value', { start: p, end: to, from, to, text: s.slice(from, to) });
}

/** What ends an unquoted value in a pair list: blanks, separators, closing brackets. */
const VALUE_END: ReadonlySet<number> = new Set([9, 10, 13, 32, 44, 59, 38, 41, 125, 93]);

/** Whether the name at `at` stands alone on its line (a reply printed without numbers). */
function aloneOnLine(s: string, at: number): boolean {
  const c = at > 0 ? s.charCodeAt(at - 1) : 10;
  if (c !== 10 && c !== 13 && !(c === 110 && s.charCodeAt(at - 2) === 92)) return false;
  return true;
}

/** `--password x`, `--api-key=x` (any flag named like a credential), and `-a x` of redis-cli. */
function maskFlags(s: string, e: Edits, m: TextRules): void {
  if (s.indexOf('-') < 0) return;
  const cli = CLI_RE.test(s);
  FLAG_RE.lastIndex = 0;
  for (let match = FLAG_RE.exec(s); match !== null; match = FLAG_RE.exec(s)) {
    const flag = match[2]!;
    const p = match.index + match[0].length;
    const value = tokenize(s, p, lineEndFrom(s, p))[0];
    // `curl -u user:password`, `--user user:password`: the part after the colon.
    if ((flag === 'u' || flag === 'user') && value !== undefined && value.text.indexOf('://') < 0) {
      const colon = value.text.indexOf(':');
      if (colon >= 0) e.token('cli_flag', value, colon + 1);
      continue;
    }
    const sensitive = (cli && match[1] === '-' && flag === 'a') || (flag.length > 1 && m.isSensitiveKey(flag));
    if (sensitive) e.token('cli_flag', value);
  }
}

/** An ACL rule string on its own (`+@all ~* >pass`): password and hash rules masked. */
export function maskAclText(s: string, m: TextRules): string {
  const e = new Edits(s, m);
  maskAclRules(e, tokenize(s, 0, s.length), 0);
  return e.apply();
}

const ARRAY_COMMANDS: ReadonlySet<string> = new Set(['AUTH', 'HELLO', 'MIGRATE', 'ACL', 'CONFIG', 'SENTINEL']);

/**
 * A Redis command given as an array of strings (`["AUTH","default","pw"]`, `["CONFIG","SET",
 * "requirepass","pw"]`) under any tool: its secret operands are masked in place, by the same
 * grammar as commands in text. Returns whether the array was a command.
 */
export function maskCommandArray(items: string[], m: TextRules): boolean {
  if (items.length < 2) return false;
  const name = items[0]!.trim().toUpperCase();
  if (!ARRAY_COMMANDS.has(name)) return false;
  const tokens: Token[] = [];
  for (let i = 1; i < items.length; i++) {
    const text = items[i]!;
    tokens.push({ start: i, end: i, from: 0, to: text.length, text });
  }
  const sink: OperandSink = {
    token(rule, t, skip = 0) {
      if (t === undefined || skip >= t.text.length) return;
      const secret = t.text.slice(skip);
      if (secret !== REDACTED) items[t.start] = t.text.slice(0, skip) + m.mask(rule, secret);
    },
  };
  maskCommand(sink, name, tokens, true, true, m);
  return true;
}
