/**
 * URL credentials: the userinfo of every `scheme://` URL, sensitive query and fragment
 * parameters, nested URLs (a URL in a URL's path or query, percent-encoded or not), JSON-escaped
 * slashes. Redis-family URLs are sanitised as redisctl-mcp does (`redis://redacted:redacted@host`);
 * anything malformed fails closed ("[REDACTED]").
 */
import { MASK_TOKEN_RE, REDACTED, type KeyClassifier, type Mask } from './keys';
import type { TextMasker } from './text';

/** What a credential inside a URL becomes; redisctl-mcp writes `redis://redacted:redacted@host`. */
export const URL_MASK = 'redacted';

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

/** `user` and `password` of a userinfo, where either may be a keyed token (`[REDACTED:…:…]`). */
const USERINFO_RE = /^(\[REDACTED[^\]]*\]|[^:]*)(?::(.*))?$/s;

/** Nested URLs (a URL in a URL's path or query) are followed this deep, then fail closed. */
const MAX_URL_NESTING = 8;

export class UrlMasker {
  constructor(
    private readonly keys: KeyClassifier,
    private readonly text: TextMasker,
    private readonly mask: Mask,
  ) {}

  /** The mask of a URL's user, password or parameter (redisctl-mcp writes `redacted`). */
  private maskPart(secret: string): string {
    return secret === URL_MASK ? secret : this.mask('url_credentials', secret, URL_MASK);
  }

  /**
   * Masks credentials of every `scheme://` URL in `s`. With `pairs`, the text between URLs gets
   * key=value masking, and a URL that is itself a sensitive key's value is redacted whole.
   */
  maskUrls(s: string, nest: number, pairs: boolean): string {
    let at = urlMark(s, 0);
    if (at < 0) return pairs ? this.text.maskPairs(s) : s;
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
        const gap = this.text.maskPairs(s.slice(copied, start));
        masked = this.text.pendingValue ? this.mask('sensitive_pair', token) : this.maskToken(token, start === at ? '' : s.slice(start, at), nest);
        this.text.pendingValue = false;
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
    return out + (pairs ? this.text.maskPairs(s.slice(copied)) : s.slice(copied));
  }

  /**
   * A URL token as found in text: JSON text may escape its slashes (`redis:\/\/u:p@h`), which
   * is unescaped to be checked and escaped again when masked.
   */
  private maskToken(token: string, scheme: string, nest: number): string {
    if (token.charCodeAt(scheme.length + 1) !== 92 /* \ */) return this.maskUrl(token, scheme, nest) ?? this.mask('malformed_url', token);
    const plain = token.replace(/\\\//g, '/');
    const masked = this.maskUrl(plain, scheme, nest);
    if (masked === plain) return token;
    return masked === null ? this.mask('malformed_url', token) : masked.replace(/\//g, '\\/');
  }

  /** One URL token; returns it unchanged when it holds no credentials, null when malformed. */
  private maskUrl(token: string, scheme: string, nest: number): string | null {
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
      userinfo = this.maskUserinfo(authority.slice(0, at)) + '@';
      hostport = authority.slice(at + 1);
    }
    if (!validHostPort(hostport)) return null;

    const rest = token.slice(i);
    const hash = rest.indexOf('#');
    const beforeHash = hash < 0 ? rest : rest.slice(0, hash);
    const q = beforeHash.indexOf('?');
    let path = q < 0 ? beforeHash : beforeHash.slice(0, q);
    let query: string | null = q < 0 ? null : beforeHash.slice(q + 1);
    let fragment: string | null = hash < 0 ? null : rest.slice(hash + 1);

    // A Redis URL has no `@` after its authority: one there is a password with an unencoded
    // `/`, `?` or `#` in it, so the authority split above was wrong. Fail closed.
    if (redisFamily && (path.indexOf('@') >= 0 || (query !== null && query.indexOf('@') >= 0))) return null;
    if (path.indexOf('://') >= 0) {
      if (nest >= MAX_URL_NESTING) return null;
      path = this.maskUrls(path, nest + 1, false);
    }
    if (query !== null) {
      query = this.maskParams(query, nest);
      if (query === null) return null;
    }
    if (fragment !== null) {
      // redisctl-mcp masks a Redis URL's fragment whole; elsewhere it may carry
      // `#access_token=...`, so it is masked like a query.
      fragment = redisFamily ? this.maskPart(fragment) : this.maskParams(fragment, nest);
      if (fragment === null) return null;
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
      // The decoded value is the secret (what `audit-router hash` is given).
      if (this.keys.sensitiveUrlParam(name)) out = this.maskPart(decodeComponent(value) ?? value);
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
  /**
   * Userinfo written without a scheme, in text: `//user:pass@host` (scheme-relative) and
   * `user:pass@host:port` / `user:pass@host/path` anywhere (not `user:bob@example.com`, a Redis key).
   * With `location` (the value of a location-like key: endpoint, host, address, server, upstream,
   * target…) `user:pass@host` alone counts too, and so does a userinfo without a colon
   * (`token@host:6379`, `token@host/path`); an e-mail address (`bob@example.com`) does not.
   * Each part is masked like a URL's (`redacted:redacted@host`).
   */
  maskBareUserinfo(s: string, location: boolean): string {
    let at = s.indexOf('@');
    if (at < 0) return s;
    let out = '';
    let copied = 0;
    while (at >= 0) {
      let start = at;
      while (start > 0 && !isRunDelimiter(s.charCodeAt(start - 1))) start--;
      let end = at + 1;
      while (end < s.length && !isRunDelimiter(s.charCodeAt(end))) end++;
      // The run's last `@` ends its userinfo (a password may hold an `@`).
      const last = s.lastIndexOf('@', end - 1);
      const from = this.userinfoStart(s, start, last, location);
      if (from >= 0) {
        const userinfo = s.slice(from, last);
        const masked = this.maskUserinfo(userinfo);
        if (masked !== userinfo) {
          out += s.slice(copied, from) + masked;
          copied = last;
        }
      }
      at = s.indexOf('@', end);
    }
    return copied === 0 ? s : out + s.slice(copied);
  }

  /**
   * Where the userinfo before `at` starts in the run s[start, at), or -1 when the run is not
   * `userinfo@host`.
   */
  private userinfoStart(s: string, start: number, at: number, location: boolean): number {
    const run = s.slice(start, at);
    // A URL (`scheme://`, JSON-escaped or not) is the URL rules' business.
    if (run.indexOf('://') >= 0 || run.indexOf(':\\/\\/') >= 0) return -1;
    let from = start;
    let relative = false;
    if (run.startsWith('//')) {
      from += 2;
      relative = true;
    } else if (run.startsWith('\\/\\/')) {
      from += 4;
      relative = true;
    }
    let userinfo = s.slice(from, at);
    if (userinfo === '' || userinfo.indexOf('/') >= 0 || userinfo.indexOf('\\') >= 0) return -1;
    let colon = userinfo.indexOf(':');
    if (!relative) {
      // `endpoint=u:p@h`, `a,u:p@h`: the userinfo starts after the separator before the user.
      const head = colon < 0 ? userinfo : userinfo.slice(0, colon);
      let cut = -1;
      for (let i = head.length - 1; i >= 0; i--) {
        const c = head.charCodeAt(i);
        if (c === 61 /* = */ || c === 44 /* , */ || c === 59 /* ; */ || c === 124 /* | */) {
          cut = i;
          break;
        }
      }
      if (cut >= 0) {
        from += cut + 1;
        userinfo = userinfo.slice(cut + 1);
        colon -= colon < 0 ? 0 : cut + 1;
        if (userinfo === '') return -1;
      }
      if (colon >= 0 && NON_HIERARCHICAL_SCHEMES.has(userinfo.slice(0, colon).toLowerCase())) return -1;
    }
    const host = hostAfter(s, at + 1);
    if (host < 0) return -1;
    const next = s.charCodeAt(host);
    const portOrPath = (next === 58 /* : */ && isDigit(s.charCodeAt(host + 1))) || next === 47 /* / */;
    if (relative) return from;
    if (colon >= 0) return portOrPath || location ? from : -1;
    return location && portOrPath ? from : -1;
  }

  /** `user:password` of a URL, each part masked (redisctl-mcp: `redacted:redacted`). */
  private maskUserinfo(userinfo: string): string {
    if (userinfo === '') return '';
    // user[:password], each part masked alone; a part that already is a keyed token (a `:` in it) kept.
    const m = USERINFO_RE.exec(userinfo)!;
    const user = m[1]!;
    const password = m[2];
    const part = (p: string) => (p === '' || p === REDACTED || MASK_TOKEN_RE.test(p) ? p : this.maskPart(p));
    return part(user) + (password === undefined ? '' : ':' + part(password));
  }

  /**
   * A location (an import or export URI, a path) already redacted as text: the userinfo of one
   * written without a scheme (`user:pass@host/path`) is masked too.
   */
  maskSchemelessUserinfo(rule: string, s: string): string {
    if (s === REDACTED || urlMark(s, 0) >= 0 || s.startsWith('//')) return s;
    const at = s.lastIndexOf('@');
    if (at <= 0) return s;
    const slash = s.indexOf('/');
    // user[:pass]@host… (an @ after the first / is in the path, as in an S3 key)
    if (slash >= 0 && slash < at) return s;
    const userinfo = s.slice(0, at);
    return userinfo === REDACTED ? s : this.mask(rule, userinfo) + s.slice(at);
  }

}

/** Schemes written without `//` whose `scheme:x@host` is an address, not a userinfo. */
const NON_HIERARCHICAL_SCHEMES: ReadonlySet<string> = new Set(['mailto', 'sip', 'sips', 'tel', 'xmpp', 'im', 'pres', 'urn', 'news', 'nntp', 'cid', 'mid']);

/** What ends a run of text that may be `userinfo@host`: blanks, quotes, brackets of prose. */
function isRunDelimiter(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 96 || c === 60 || c === 62 || c === 40 || c === 41 || c === 123 || c === 125 || c === 127;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The end of a host name or `[v6]` address at `p`, or -1 when there is none. */
function hostAfter(s: string, p: number): number {
  if (s.charCodeAt(p) === 91 /* [ */) {
    const close = s.indexOf(']', p);
    return close > p + 1 && IPV6_RE.test(s.slice(p + 1, close)) ? close + 1 : -1;
  }
  const from = p;
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (!(isAlpha(c) || isDigit(c) || c === 45 /* - */ || c === 46 /* . */ || c === 95 /* _ */)) break;
  }
  return p > from && isAlpha(s.charCodeAt(from)) ? p : p > from && isDigit(s.charCodeAt(from)) ? p : -1;
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
export function urlMark(s: string, from: number): number {
  const plain = s.indexOf('://', from);
  const escaped = s.indexOf(':\\/\\/', from);
  if (escaped < 0) return plain;
  return plain < 0 ? escaped : Math.min(plain, escaped);
}

function decodeComponent(s: string): string | null {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}
