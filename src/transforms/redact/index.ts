/**
 * Redaction: audit-router's second line of defence.
 *
 * redisctl-mcp redacts its own `redact_fields`, but a misconfigured or older server leaks, so
 * everything that leaves this process goes through a Redactor first. The rules mirror
 * redisctl-mcp's `crates/redisctl-mcp/src/audit.rs` (field-name normalisation, the always-redacted
 * list, Redis URL sanitising, the raw-command tool rules) and add defence in depth on top; see
 * docs/redaction.md. One job per file:
 *
 *   keys.ts        which keys are sensitive        walk.ts   the walk over values, depth limit
 *   urls.ts        credentials in URLs             text.ts   secrets in free text (pairs, headers,
 *   tool-rules.ts  per-tool argument rules                   PEM, Redis commands, flags)
 *   index.ts       this facade: events, messages, values, text, and the one mask function
 *
 * Every mask is written through `Redactor.mask` (rule name and secret known there), which keyed
 * masking replaces through the `mask` option.
 *
 * Hot path: an audit event costs one Map lookup per key, a few char tests per string, plus one
 * JSON.parse/JSON.stringify of its `arguments` string.
 */
import { ConfigError } from '../../util/errors';
import { isJsonObject, type JsonObject, type JsonValue } from '../../util/json';
import { KeyClassifier, REDACTED, type Mask, type SecretMask } from './keys';
import { TextMasker } from './text';
import { TOOL_RULES } from './tool-rules';
import { UrlMasker } from './urls';
import { Walker } from './walk';

export { BUILTIN_SENSITIVE_KEYS, normaliseKey, REDACTED } from './keys';
export type { SecretMask } from './keys';

export const DEFAULT_MAX_DEPTH = 64;

/** Rules that withhold a value whole (not one secret): always the plain mask. */
const WITHHELD_WHOLE: ReadonlySet<string> = new Set(['jsonrpc_result', 'max_depth', 'malformed_url', 'unparseable_json', 'tool_arguments']);
/** Recursion is bounded by maxDepth, so it must stay far below what the JS stack can take. */
const MAX_MAX_DEPTH = 1000;

/** Told of every mask written: the rule that found the secret, and the secret (counters, benches). */
export type MaskObserver = (rule: string, secret: JsonValue) => void;

export interface RedactorOptions {
  /** Extra sensitive field names (config, policy file `[audit].redact_fields`, --redact-field). */
  fields?: Iterable<string>;
  /** Containers nested deeper than this (embedded JSON strings count) become "[REDACTED]". */
  maxDepth?: number;
  /** What replaces a secret value (`[redact] mode = "hmac"`); null or absent: the plain masks. */
  mask?: SecretMask;
  /** Called for every mask written, with the rule's name (redactions counted by rule). */
  observe?: MaskObserver;
}

export class Redactor {
  private readonly keys: KeyClassifier;
  private readonly walker: Walker;
  private readonly secretMask: SecretMask;
  private readonly observe: MaskObserver | undefined;

  constructor(options: RedactorOptions = {}) {
    this.keys = new KeyClassifier(options.fields ?? []);
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_MAX_DEPTH) {
      throw new ConfigError(`max depth must be an integer from 1 to ${MAX_MAX_DEPTH}, got ${String(maxDepth)}`);
    }
    this.secretMask = options.mask ?? null;
    this.observe = options.observe;
    const mask: Mask = (rule, secret, placeholder = REDACTED) => this.mask(rule, secret, placeholder);
    const text = new TextMasker(this.keys, mask);
    this.walker = new Walker(this.keys, text, new UrlMasker(this.keys, text, mask), maxDepth, mask);
  }

  /**
   * The one place a mask is written: every rule calls it with its name and the secret, and writes
   * what it returns.
   */
  mask(rule: string, secret: JsonValue, placeholder: string = REDACTED): string {
    this.observe?.(rule, secret);
    // What is withheld whole, because it cannot be read safely, stays `[REDACTED]` even with
    // keyed masking: its token would say nothing useful about a value nobody could name.
    return this.secretMask === null || WITHHELD_WHOLE.has(rule) ? placeholder : this.secretMask(secret);
  }

  isSensitiveKey(key: string): boolean {
    return this.keys.isSensitiveKey(key);
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
    if (fields === record && Object.hasOwn(record, 'jsonrpc') && Object.hasOwn(record, 'result') && record.result !== REDACTED) {
      record.result = this.mask('jsonrpc_result', record.result!);
    }
    const rule = typeof tool === 'string' ? TOOL_RULES.get(tool) : undefined;
    if (rule === undefined || !Object.hasOwn(fields, 'arguments')) {
      this.walker.walkObject(record, 0);
      return record;
    }
    // The tool rule needs the parsed arguments, so hold them out of the generic walk (the key
    // stays in place, keeping field order) and redact them once, generically plus the rule.
    const args = fields.arguments as JsonValue;
    fields.arguments = null;
    this.walker.walkObject(record, 0);
    if ((fields === record || record.fields === fields || record.params === fields) && fields.arguments === null) {
      fields.arguments = this.walker.redactToolArguments(rule, args, fields === record ? 1 : 2);
    }
    return record;
  }

  /**
   * A JSON line that is not an audit event: an object gets the event rules (tool rules, JSON-RPC
   * results withheld), and so does every object of an array (a JSON-RPC batch).
   */
  redactMessage(value: JsonValue): JsonValue {
    if (isJsonObject(value)) return this.redactEvent(withheldResult(value, this));
    if (!Array.isArray(value)) return this.redactValue(value);
    for (let i = 0; i < value.length; i++) {
      const item = value[i]!;
      value[i] = isJsonObject(item) ? this.redactEvent(withheldResult(item, this)) : this.walker.walk(item, 1);
    }
    return value;
  }

  redactValue(value: JsonValue): JsonValue {
    return this.walker.walk(value, 0);
  }

  redactText(text: string): string {
    return this.walker.redactText(text);
  }
}

/**
 * A response that omits the `jsonrpc` member (`{"id":7,"result":…}`) is still a tool's output on
 * the passthrough: its result is withheld like a JSON-RPC one (redactEvent does that for those with
 * the member).
 */
function withheldResult(message: JsonObject, redactor: Redactor): JsonObject {
  if (Object.hasOwn(message, 'result') && Object.hasOwn(message, 'id') && !Object.hasOwn(message, 'jsonrpc') && !Object.hasOwn(message, 'target')) {
    if (message.result !== REDACTED) message.result = redactor.mask('jsonrpc_result', message.result!);
  }
  return message;
}
