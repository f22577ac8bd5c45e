/**
 * Which keys are sensitive. A key is compared by its normalised form (redisctl-mcp's
 * `normalize_field_name`: lower-case ASCII letters and digits only), against the always-redacted
 * list, the configured extra fields, and the defence-in-depth parts and suffixes; non-ASCII keys
 * are also folded (NFKC, Cyrillic/Greek look-alikes) so `pаssword` cannot slip through.
 * Verdicts are cached per raw key (bounded: keys are input-controlled).
 */
import { ConfigError } from '../../util/errors';
import type { JsonValue } from '../../util/json';
import { urlMark } from './urls';

export const REDACTED = '[REDACTED]';

/**
 * What replaces one secret value, when not the plain masks: `[redact] mode = "hmac"` passes a
 * function giving `[REDACTED:hmac-sha256:<24 hex>]` (src/integrity/redaction-token.ts). null: the
 * plain masks (`[REDACTED]`, `redacted` in URLs). Every place that masks a secret value uses it.
 */
export type SecretMask = ((secret: JsonValue) => string) | null;

/** A keyed mask token: already redacted, never redacted again. */
export const MASK_TOKEN_RE = /^\[REDACTED:hmac-sha256:[0-9a-f]{24}\]$/;

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
export const SENSITIVE_PARTS: readonly string[] = ['password', 'passphrase', 'passwd', 'secret', 'privatekey', 'credential'];

/**
 * URL query (and fragment) parameter names that are sensitive on top of the key rules;
 * redisctl-mcp adds pass/user/username, the rest are common signed-URL and API-key parameters.
 */
export const URL_PARAM_NAMES: ReadonlySet<string> = new Set([
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

/** Keys whose string values are free text (tracing's `message` and friends): text masking applies. */
export const TEXT_KEYS: ReadonlySet<string> = new Set(['message', 'msg', 'error', 'err', 'reason', 'detail']);

/** The key-verdict cache is cleared when it grows past this (keys are input-controlled). */
export const KEY_CACHE_LIMIT = 8192;

// Key verdict bits, cached per raw key.
export const KEY_SENSITIVE = 1;

export const KEY_TEXT = 2;

export const KEY_HAS_URL = 4;

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

/** The sensitive-key decision, with its cache. One per Redactor. */
export class KeyClassifier {
  private readonly names: ReadonlySet<string>;
  private readonly verdicts = new Map<string, number>();

  /** `fields`: extra sensitive names (config, policy file, --redact-field); validated here. */
  constructor(fields: Iterable<string> = []) {
    const names = new Set<string>(BUILTIN_SENSITIVE_KEYS);
    for (const field of fields) {
      if (typeof field !== 'string') throw new ConfigError('a redact field must be a string', undefined, 'redact_fields');
      const normalised = normaliseKey(field);
      if (normalised === '') {
        throw new ConfigError(`redact field ${JSON.stringify(field)} has no letters or digits`, undefined, 'redact_fields');
      }
      names.add(normalised);
    }
    this.names = names;
  }

  isSensitiveKey(key: string): boolean {
    return (this.verdict(key) & KEY_SENSITIVE) !== 0;
  }

  /** The KEY_* bits of `key`. */

  verdict(key: string): number {
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

  /** A URL query/fragment parameter name whose value is masked. */
  sensitiveUrlParam(name: string): boolean {
    return this.isSensitiveKey(name) || URL_PARAM_NAMES.has(normaliseKey(name));
  }
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
