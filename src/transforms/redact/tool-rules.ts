/**
 * Per-tool argument rules: redisctl-mcp tools whose credentials sit in fields that no key name
 * marks (redisctl-mcp's own `redact_arguments` for the raw-command tools and the certificate key,
 * and audit-router's rules for the rest of its tool list; docs/redaction.md has the table).
 *
 * A rule runs after the generic rules, on the parsed `arguments` object, and writes every mask
 * through `ctx.mask` with its own rule name.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../../util/json';
import { normaliseKey, REDACTED, SECRET_CONFIG_PARAMETERS, type Mask } from './keys';
import { maskAclText } from './text';

export interface RuleContext {
  /** Writes a mask (keys.ts `Mask`: the one function every rule writes its masks through). */
  mask: Mask;
  isSensitiveKey(name: string): boolean;
  /** A sensitive key, or a secret-bearing Redis config parameter. */
  isSecretName(name: string): boolean;
  /** A location (import/export URI, path): credentials masked, with or without a scheme. */
  maskLocation(rule: string, location: string): string;
}

export interface ToolRule {
  /** Arguments that do not parse or are not an object are redacted whole. */
  readonly strict: boolean;
  apply(args: JsonObject, ctx: RuleContext): void;
}

function maskField(args: JsonObject, key: string, rule: string, ctx: RuleContext): void {
  if (Object.hasOwn(args, key) && args[key] !== REDACTED) args[key] = ctx.mask(rule, args[key]!);
}

// ---- raw commands (redisctl-mcp redact_arguments) ----

/** redis_command's own fields (redisctl-mcp's RedisCommandInput); the generic rules cover their values. */
const RAW_COMMAND_FIELDS: ReadonlySet<string> = new Set(['command', 'args', 'url', 'profile', 'dry_run']);

/**
 * redis_command: `command` keeps its (upper-cased) name, every operand in `args` is redacted, and
 * so is any field the tool does not have (`{"command":"SET","key":"k","value":"v"}`: a mis-shaped
 * operand that the server ignores but logs).
 */
function redactRawCommand(args: JsonObject, ctx: RuleContext): void {
  for (const key of Object.keys(args)) if (!RAW_COMMAND_FIELDS.has(key)) maskField(args, key, 'redis_command', ctx);
  if (Object.hasOwn(args, 'command')) args.command = commandIdentity(args.command!, 'redis_command', ctx);
  if (!Object.hasOwn(args, 'args')) return;
  const operands = args.args;
  if (Array.isArray(operands)) redactOperands(operands, false, 'redis_command', ctx);
  else maskField(args, 'args', 'redis_command', ctx);
}

/** redis_bulk_load / redis_alias_set: `commands: [{args: ["SET", ...]}]`, name kept, operands redacted. */
function packedCommands(rule: string): (args: JsonObject, ctx: RuleContext) => void {
  return (args, ctx) => {
    if (!Object.hasOwn(args, 'commands')) return;
    const commands = args.commands;
    if (!Array.isArray(commands)) {
      maskField(args, 'commands', rule, ctx);
      return;
    }
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      if (!isJsonObject(command)) {
        if (command !== REDACTED) commands[i] = ctx.mask(rule, command);
        continue;
      }
      if (Object.hasOwn(command, 'args')) {
        // A packed command is `{args}` alone: anything beside it may be a mis-shaped operand.
        for (const key of Object.keys(command)) if (key !== 'args') maskField(command, key, rule, ctx);
        const operands = command.args;
        if (Array.isArray(operands)) redactOperands(operands, true, rule, ctx);
        else maskField(command, 'args', rule, ctx);
      } else {
        // Not a packed command: drop all of it rather than keep an unknown field that may be a
        // mis-shaped operand.
        const secret = JSON.stringify(command);
        for (const key of Object.keys(command)) delete command[key];
        command.args = ctx.mask(rule, secret);
      }
    }
  };
}

function redactOperands(operands: JsonValue[], commandIsFirst: boolean, rule: string, ctx: RuleContext): void {
  let i = 0;
  if (commandIsFirst && operands.length > 0) {
    operands[0] = commandIdentity(operands[0]!, rule, ctx);
    i = 1;
  }
  for (; i < operands.length; i++) if (operands[i] !== REDACTED) operands[i] = ctx.mask(rule, operands[i]!);
}

/** Redis command names are short words (GET, FT.SEARCH, CLIENT|LIST); anything else is redacted. */
const COMMAND_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._|-]{0,63}$/;

function commandIdentity(value: JsonValue, rule: string, ctx: RuleContext): JsonValue {
  if (typeof value !== 'string') return ctx.mask(rule, value);
  const name = value.trim();
  if (name === REDACTED) return name;
  if (!COMMAND_NAME_RE.test(name)) return ctx.mask(rule, value);
  return name.toUpperCase();
}

// ---- configuration ----

/** redis_config_set's own fields. */
const CONFIG_SET_FIELDS: ReadonlySet<string> = new Set(['parameter', 'value', 'url', 'profile']);
const CONFIG_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A secret-bearing parameter name inside a value (`x requirepass y`: several pairs in one value). */
const SECRET_NAME_IN_TEXT_RE = /(?:^|[\s"'])(?:requirepass|masterauth|primaryauth|tls-key-file-pass|tls-client-key-file-pass|auth-pass|sentinel-pass)(?:$|[\s"'])/i;

/**
 * redis_config_set `{parameter, value}`: the value of a secret-bearing parameter (requirepass,
 * masterauth, …, or a name the key rules call sensitive) is redacted; a parameter that is not a
 * plain config name (a glob, whitespace: the value run into it) redacts both; fields the tool does
 * not have are redacted.
 */
function redactConfigSet(args: JsonObject, ctx: RuleContext): void {
  const rule = 'redis_config_set';
  for (const key of Object.keys(args)) if (!CONFIG_SET_FIELDS.has(key)) maskField(args, key, rule, ctx);
  const parameter = args.parameter;
  if (parameter === undefined) {
    maskField(args, 'value', rule, ctx);
    return;
  }
  const name = typeof parameter === 'string' ? parameter.trim() : '';
  if (!CONFIG_NAME_RE.test(name)) {
    maskField(args, 'parameter', rule, ctx);
    maskField(args, 'value', rule, ctx);
    return;
  }
  const value = args.value;
  if (SECRET_CONFIG_PARAMETERS.has(normaliseKey(name)) || ctx.isSensitiveKey(name) || (typeof value === 'string' && SECRET_NAME_IN_TEXT_RE.test(value))) {
    maskField(args, 'value', rule, ctx);
  }
}

// ---- ACL rules ----

/** The ACL rule string of an Enterprise ACL or a Cloud Redis rule: `>pass`, `<pass`, `#hash`, `!hash`. */
function aclRuleField(field: string): (args: JsonObject, ctx: RuleContext) => void {
  return (args, ctx) => {
    const value = args[field];
    if (value === undefined) return;
    if (typeof value !== 'string') {
      maskField(args, field, 'redis_acl_rule', ctx);
      return;
    }
    args[field] = maskAclText(value, ctx);
  };
}

// ---- import / export locations ----

function locationFields(...fields: string[]): (args: JsonObject, ctx: RuleContext) => void {
  return (args, ctx) => {
    for (const field of fields) {
      const value = args[field];
      if (typeof value === 'string') args[field] = ctx.maskLocation('location', value);
      else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item = value[i]!;
          if (typeof item === 'string') value[i] = ctx.maskLocation('location', item);
        }
      }
    }
  };
}

// ---- data written under a Redis key that names a credential ----

/** The last member of a JSONPath (`$.a.password`, `$['api_key']`, `$..token`). */
function lastPathMember(path: string): string {
  const parts = path.split(/[.[\]'"$*]+/).filter((p) => p !== '');
  return parts.length === 0 ? '' : parts[parts.length - 1]!;
}

/** Fields that carry the data a data tool writes. */
const DATA_FIELDS = ['value', 'values', 'elements', 'members', 'fields', 'serialized_value'];

/**
 * redis_set, redis_hset, redis_lpush, redis_json_set and the other write tools: a Redis key (or
 * JSONPath) that names a credential (`cfg:api_token`, `user:42:password`, `$.password`) has its
 * data redacted; redis_mset judges each entry by its own key.
 */
function redactDataUnderSecretKey(args: JsonObject, ctx: RuleContext): void {
  const rule = 'redis_secret_key';
  const entries = args.entries;
  if (Array.isArray(entries)) {
    for (const entry of entries) {
      if (isJsonObject(entry) && typeof entry.key === 'string' && ctx.isSensitiveKey(entry.key)) maskField(entry, 'value', rule, ctx);
    }
  }
  const key = args.key;
  const path = args.path;
  const secretKey = typeof key === 'string' && ctx.isSensitiveKey(key);
  const secretPath = typeof path === 'string' && ctx.isSensitiveKey(lastPathMember(path));
  if (!secretKey && !secretPath) return;
  for (const field of DATA_FIELDS) maskField(args, field, rule, ctx);
}

// ---- raw API escape hatches ----

/**
 * enterprise_raw_api / cloud_raw_api: the generic rules cover the body's named fields; what the
 * API calls neutrally is redacted by endpoint: a certificate's private `key`, a `license`.
 */
function redactRawApi(args: JsonObject, ctx: RuleContext): void {
  const rule = 'raw_api';
  const path = typeof args.path === 'string' ? args.path : '';
  let body = args.body;
  let embedded = false;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as JsonValue;
      embedded = true;
    } catch {
      return;
    }
  }
  if (!isJsonObject(body)) return;
  let changed = false;
  if (/cert/i.test(path) && Object.hasOwn(body, 'key')) {
    maskField(body, 'key', rule, ctx);
    changed = true;
  }
  if (/licen[cs]e|bootstrap/i.test(path) && Object.hasOwn(body, 'license')) {
    maskField(body, 'license', rule, ctx);
    changed = true;
  }
  if (embedded && changed) args.body = JSON.stringify(body);
}

function redactCertificateKey(args: JsonObject, ctx: RuleContext): void {
  maskField(args, 'key', 'update_enterprise_cluster_certificates', ctx);
}

// ---- the table ----

const rule = (apply: (args: JsonObject, ctx: RuleContext) => void, strict = false): ToolRule => ({ strict, apply });

const dataWrite = rule(redactDataUnderSecretKey);

/** Per-tool argument rules; the tool name is the event's `tool` (or a tools/call's params.name). */
export const TOOL_RULES: ReadonlyMap<string, ToolRule> = new Map<string, ToolRule>([
  ['redis_command', rule(redactRawCommand, true)],
  ['redis_bulk_load', rule(packedCommands('redis_bulk_load'), true)],
  ['redis_alias_set', rule(packedCommands('redis_alias_set'), true)],
  // Its private-key argument is called `key`, which cannot be on the global list.
  ['update_enterprise_cluster_certificates', rule(redactCertificateKey)],
  ['redis_config_set', rule(redactConfigSet, true)],
  ['create_enterprise_acl', rule(aclRuleField('acl'))],
  ['update_enterprise_acl', rule(aclRuleField('acl'))],
  ['validate_enterprise_acl', rule(aclRuleField('acl'))],
  ['create_redis_rule', rule(aclRuleField('redis_rule'))],
  ['update_redis_rule', rule(aclRuleField('redis_rule'))],
  ['import_database', rule(locationFields('import_from_uri'))],
  ['import_fixed_database', rule(locationFields('import_from_uri'))],
  ['import_enterprise_database', rule(locationFields('import_location'))],
  ['export_enterprise_database', rule(locationFields('export_location'))],
  ['enterprise_raw_api', rule(redactRawApi)],
  ['cloud_raw_api', rule(redactRawApi)],
  ...[
    'redis_set', 'redis_setnx', 'redis_append', 'redis_setrange', 'redis_getset', 'redis_mset', 'redis_restore',
    'redis_hset', 'redis_lpush', 'redis_rpush', 'redis_sadd', 'redis_zadd', 'redis_xadd', 'redis_json_set',
    'redis_json_arrappend', 'redis_json_arrinsert',
  ].map((name): [string, ToolRule] => [name, dataWrite]),
]);
