/**
 * Which keys are sensitive. A key is judged on two forms of itself: its normalised form
 * (redisctl-mcp's `normalize_field_name`: lower-case ASCII letters and digits only, `dbPassword` →
 * `dbpassword`) and its words (split at separators and camelCase humps: `upstreamApiKey` →
 * upstream, api, key). In this order:
 *
 * 1. a normalised name on the exact list (built-in, configured) is sensitive;
 * 2. a name whose last word is a descriptor (count, size, limit, policy, type, length, file, …)
 *    or whose first word is a quantifier or flag (max, min, num, has, is, use, …) is harmless:
 *    `password_policy`, `key_count`, `max_keys`, `has_password`, `tokens_used`;
 * 3. a normalised name that contains a strong word is sensitive: password, secret, credential,
 *    apikey, privatekey, masterauth, … a qualifier glued to "key" (`accesskey`, `sharedkey`,
 *    `storageaccountkey`), or key material (`keypem`, `keyb64`);
 * 4. a normalised name that ends like a credential is sensitive: …token (not …tokens), …pass (not
 *    bypass, compass), …pwd, …passwd, …auth;
 * 5. a word that is a credential word is sensitive: pass, pwd, pw, auth, token, cookie, otp, pin;
 * 6. the word "key" after a qualifier (`ssh key`, `account key`), or a key-material word (pem,
 *    der, jwk, pkcs8…) beside "key" or "private", is sensitive; "key" alone, `keyspace`,
 *    `primary_key` and `public_key` are not.
 *
 * Non-ASCII keys are also folded (NFKC, Cyrillic/Greek look-alikes) so `pаssword` cannot slip
 * through. Verdicts are cached per raw key (bounded: keys are input-controlled).
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
  // Redis's own names for credentials (configuration parameters, also used as JSON keys)
  'requirepass',
  'masterauth',
  'primaryauth',
  'authpass',
  'sentinelpass',
  'tlskeyfilepass',
  'tlsclientkeyfilepass',
  'pw',
]);

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

/** The key-verdict cache is cleared when it grows past this (keys are input-controlled). */
export const KEY_CACHE_LIMIT = 8192;

// Key verdict bits, cached per raw key.
export const KEY_SENSITIVE = 1;

export const KEY_HAS_URL = 4;
/** A key naming a location (endpoint, host, address…): its value may be `user:pass@host`. */
export const KEY_LOCATION = 8;

/** Last words of a key that names a location (a connection's address, with or without a scheme). */
const LOCATION_WORDS: ReadonlySet<string> = new Set([
  'endpoint', 'endpoints', 'host', 'hosts', 'hostname', 'address', 'addresses', 'addr', 'server', 'servers',
  'upstream', 'upstreams', 'target', 'targets', 'url', 'urls', 'uri', 'uris', 'location', 'dsn', 'connection',
  'conn', 'proxy', 'remote', 'origin', 'destination', 'dest', 'backend', 'peer', 'peers', 'broker', 'brokers',
  'seed', 'seeds', 'master', 'primary', 'replica', 'replicaof', 'slaveof', 'sentinel', 'sentinels', 'node', 'nodes',
]);
/** Endings of a one-word key that name a location (`redisEndpoint` is two words; `redisendpoint` one). */
const LOCATION_ENDINGS: readonly string[] = ['endpoint', 'hostname', 'address', 'upstream', 'location', 'connection', 'dsn', 'url', 'uri'];

/** Whether a key names a location, by its last word or the ending of its normalised name. */
export function isLocationName(normalised: string, words: readonly string[]): boolean {
  if (words.length > 0 && LOCATION_WORDS.has(words[words.length - 1]!)) return true;
  for (let i = 0; i < LOCATION_ENDINGS.length; i++) if (normalised.endsWith(LOCATION_ENDINGS[i]!)) return true;
  return false;
}

/**
 * Writes one mask: what replaces `secret`, found by `rule`. The default is `placeholder`
 * ("[REDACTED]", or "redacted" for a URL's user, password and parameters); keyed masking
 * (SecretMask) replaces it. Every rule writes its masks through the one function the Redactor
 * hands out (`Redactor.mask`), where the rule's name is known.
 */
export type Mask = (rule: string, secret: JsonValue, placeholder?: string) => string;

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
    const words = keyWords(key);
    if (isCredentialName(normalised, words, this.names)) v |= KEY_SENSITIVE;
    else if (isLocationName(normalised, words)) v |= KEY_LOCATION;
    else if (hasNonAscii(key)) {
      // Compatibility forms (full-width letters, ligatures) fold to ASCII under NFKC, and Cyrillic
      // or Greek look-alikes (`pаssword` with a Cyrillic а) to the Latin letter they imitate; the
      // plain normalisation above is kept too, so folding can only add matches. Characters that
      // are not letters (zero-width, controls) are dropped before the words are cut.
      const folded = foldLookalikes(key.normalize('NFKC')).replace(INVISIBLE_RE, '');
      if (isCredentialName(normaliseKey(folded), keyWords(folded), this.names)) v |= KEY_SENSITIVE;
    }
    if (urlMark(key, 0) >= 0) v |= KEY_HAS_URL;
    if (this.verdicts.size >= KEY_CACHE_LIMIT) this.verdicts.clear();
    this.verdicts.set(key, v);
    return v;
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

/** Zero-width and control characters: not part of a word (`pass\u200bword` is one word). */
const INVISIBLE_RE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2060\ufeff]/g;

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

// ---- the word rules ----

/**
 * Names that match the rules but hold no credential (normalised): MCP's progress token and the
 * opaque cursors of paginated APIs.
 */
const HARMLESS_NAMES: ReadonlySet<string> = new Set(['progresstoken', 'pagetoken', 'nextpagetoken', 'nexttoken', 'continuationtoken']);

/** Last words that make a name describe a credential rather than hold one. */
const DESCRIPTORS: ReadonlySet<string> = new Set([
  'count', 'counts', 'cnt', 'size', 'sizes', 'len', 'length', 'limit', 'limits', 'max', 'min', 'maximum', 'minimum',
  'ttl', 'expiry', 'expires', 'expiration', 'expired', 'lifetime', 'age', 'policy', 'policies', 'rotation', 'rotated',
  'interval', 'period', 'type', 'types', 'kind', 'format', 'algorithm', 'alg', 'scheme', 'mode', 'method', 'methods',
  'mechanism', 'provider', 'enabled', 'disabled', 'required', 'present', 'exists', 'valid', 'strength', 'complexity',
  'history', 'name', 'names', 'label', 'file', 'path', 'dir', 'directory', 'url', 'uri', 'endpoint', 'host', 'hostname',
  'port', 'prefix', 'suffix', 'pattern', 'regex', 'field', 'version', 'used', 'usage', 'remaining', 'total', 'percent',
  'ratio', 'rate', 'days', 'hours', 'minutes', 'seconds', 'secs', 'sec', 'ms', 'millis', 'bytes', 'at', 'time',
  'timestamp', 'date', 'ts', 'changed', 'updated', 'created', 'status', 'state', 'source', 'index', 'level',
]);

/** First words that make a name a quantity or a flag about credentials. */
const QUANTIFIERS: ReadonlySet<string> = new Set([
  'max', 'min', 'num', 'number', 'total', 'count', 'has', 'is', 'use', 'uses', 'enable', 'enabled', 'disable',
  'require', 'requires', 'allow', 'allowed', 'needs', 'skip',
]);

/** Substrings of a normalised name that make it sensitive. */
const STRONG: readonly string[] = [
  'password', 'passphrase', 'passwd', 'secret', 'credential', 'privatekey', 'apikey', 'apitoken', 'masterauth',
  'primaryauth', 'requirepass', 'passcode', 'passkey', 'pincode',
  // key material
  'keypem', 'pemkey', 'keyder', 'keyjwk', 'keyb64', 'keybase64', 'keymaterial', 'pkcs8', 'pkcs12',
];

/** Words that, glued to or followed by "key", name a key that is a credential. */
const KEY_QUALIFIERS: readonly string[] = [
  'api', 'app', 'access', 'secret', 'private', 'client', 'tls', 'ssl', 'shared', 'session', 'signing', 'sign',
  'encryption', 'encrypt', 'decryption', 'decrypt', 'ssh', 'gpg', 'pgp', 'rsa', 'ecdsa', 'ec', 'ed25519', 'hmac',
  'aes', 'jwt', 'jws', 'jwe', 'master', 'root', 'deploy', 'service', 'storage', 'account', 'subscription', 'license',
  'auth', 'crypto', 'cipher', 'webhook', 'integration', 'admin', 'bot', 'consumer', 'write', 'ingest', 'dd',
  'cert', 'certificate', 'priv',
];
/** The glued forms checked as substrings (qualifiers of 3+ letters: `eckey` would match `speckey`). */
const GLUED_KEYS: readonly string[] = KEY_QUALIFIERS.filter((q) => q.length >= 3).map((q) => q + 'key');
const QUALIFIER_WORDS: ReadonlySet<string> = new Set(KEY_QUALIFIERS);

/** Words next to "key" (or "private") that make it key material. */
const MATERIAL_WORDS: ReadonlySet<string> = new Set(['pem', 'der', 'jwk', 'pkcs8', 'pkcs12', 'pfx', 'p12', 'b64', 'base64', 'material']);

/** Whole words that are credentials. */
const CREDENTIAL_WORDS: ReadonlySet<string> = new Set([
  'pass', 'pwd', 'pw', 'pswd', 'passw', 'pword', 'auth', 'token', 'cookie', 'otp', 'totp', 'pin', 'bearer', 'jwt',
]);

/** Endings of a normalised name that make it sensitive, with the words that only look like them. */
const ENDINGS: readonly (readonly [string, readonly string[]])[] = [
  ['token', []],
  ['pass', ['bypass', 'compass', 'encompass', 'overpass', 'underpass', 'surpass', 'trespass']],
  ['pwd', []],
  ['passwd', []],
  ['pswd', []],
  ['auth', ['noauth']],
];

/**
 * The words of a key: split at anything that is not an ASCII letter or digit and at camelCase
 * humps (`APIKey` → api, key), lower-cased.
 */
export function keyWords(key: string): string[] {
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    const digit = c >= 48 && c <= 57;
    if (!upper && !lower && !digit) {
      if (word !== '') words.push(word);
      word = '';
      continue;
    }
    if (upper && word !== '') {
      const prev = key.charCodeAt(i - 1);
      const next = i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
      const prevLowerOrDigit = (prev >= 97 && prev <= 122) || (prev >= 48 && prev <= 57);
      const prevUpper = prev >= 65 && prev <= 90;
      if (prevLowerOrDigit || (prevUpper && next >= 97 && next <= 122)) {
        words.push(word);
        word = '';
      }
    }
    word += upper ? String.fromCharCode(c + 32) : key[i];
  }
  if (word !== '') words.push(word);
  return words;
}

/**
 * Whether a key holds a credential, given its normalised name, its words and the exact names
 * (built-in plus configured).
 */
export function isCredentialName(normalised: string, words: readonly string[], exact: ReadonlySet<string>): boolean {
  if (normalised === '') return false;
  if (exact.has(normalised)) return true;
  if (HARMLESS_NAMES.has(normalised)) return false;
  if (words.length > 1 && (DESCRIPTORS.has(words[words.length - 1]!) || QUANTIFIERS.has(words[0]!))) return false;
  for (let i = 0; i < STRONG.length; i++) if (normalised.includes(STRONG[i]!)) return true;
  for (let i = 0; i < GLUED_KEYS.length; i++) if (normalised.includes(GLUED_KEYS[i]!)) return true;
  for (const [ending, lookalikes] of ENDINGS) {
    if (normalised.endsWith(ending) && !lookalikes.some((l) => normalised.endsWith(l))) return true;
  }
  let material = false;
  let keyOrPrivate = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (CREDENTIAL_WORDS.has(w)) return true;
    if (w === 'key' || w === 'keys') {
      keyOrPrivate = true;
      if (i > 0 && QUALIFIER_WORDS.has(words[i - 1]!)) return true;
    } else if (w === 'private') {
      // `ssh_private`, `tls_private`: a qualifier's private part; `private` alone is a flag.
      keyOrPrivate = true;
      if (i > 0 && QUALIFIER_WORDS.has(words[i - 1]!)) return true;
    }
    else if (MATERIAL_WORDS.has(w)) material = true;
  }
  return material && keyOrPrivate;
}

/**
 * Redis configuration parameters whose value is a credential (normalised): `requirepass`, the
 * replication password (`masterauth`, Valkey's `primaryauth`), the TLS key passphrases, and
 * Sentinel's `auth-pass` / `sentinel-pass`.
 */
export const SECRET_CONFIG_PARAMETERS: ReadonlySet<string> = new Set([
  'requirepass',
  'masterauth',
  'primaryauth',
  'tlskeyfilepass',
  'tlsclientkeyfilepass',
  'authpass',
  'sentinelpass',
]);
