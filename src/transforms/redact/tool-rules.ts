/**
 * Per-tool argument rules (redisctl-mcp's `redact_arguments`): tools whose secrets are not under a
 * secret-looking key. The tool name is the event's `tool` (or a JSON-RPC `tools/call`'s
 * params.name); a rule runs on the parsed arguments after the generic walk.
 */
import type { JsonObject, JsonValue } from '../../util/json';
import { isJsonObject } from '../../util/json';
import { REDACTED, type SecretMask } from './keys';

/** `strict`: arguments that are not a JSON object are redacted whole (raw-command tools). */
export type ToolRule = { readonly strict: boolean; apply(args: JsonObject, mask: SecretMask): void };

/** The mask of one operand or mis-shaped field (`[REDACTED]`, or the keyed token). */
function masked(mask: SecretMask, value: JsonValue): JsonValue {
  return mask === null ? REDACTED : mask(value);
}

/** Per-tool argument rules (redisctl-mcp `redact_arguments`); the tool name is the event's `tool`. */
export const TOOL_RULES: ReadonlyMap<string, ToolRule> = new Map<string, ToolRule>([
  ['redis_command', { strict: true, apply: redactRawCommand }],
  ['redis_bulk_load', { strict: true, apply: redactPackedCommands }],
  ['redis_alias_set', { strict: true, apply: redactPackedCommands }],
  // Its private-key argument is called `key`, which cannot be on the global list.
  ['update_enterprise_cluster_certificates', { strict: false, apply: redactCertificateKey }],
]);

/** redis_command's own fields (redisctl-mcp's RedisCommandInput); the generic rules cover their values. */
const RAW_COMMAND_FIELDS: ReadonlySet<string> = new Set(['command', 'args', 'url', 'profile', 'dry_run']);

/**
 * redis_command: `command` keeps its (upper-cased) name, every operand in `args` is redacted, and
 * so is any field the tool does not have (`{"command":"SET","key":"k","value":"v"}`: a mis-shaped
 * operand that the server ignores but logs).
 */
function redactRawCommand(args: JsonObject, mask: SecretMask): void {
  for (const key of Object.keys(args)) if (!RAW_COMMAND_FIELDS.has(key)) args[key] = masked(mask, args[key]!);
  if (Object.hasOwn(args, 'command')) args.command = commandIdentity(args.command!, mask);
  if (!Object.hasOwn(args, 'args')) return;
  const operands = args.args;
  if (Array.isArray(operands)) redactOperands(operands, false, mask);
  else args.args = masked(mask, operands!);
}

/** redis_bulk_load / redis_alias_set: `commands: [{args: ["SET", ...]}]`, name kept, operands redacted. */
function redactPackedCommands(args: JsonObject, mask: SecretMask): void {
  if (!Object.hasOwn(args, 'commands')) return;
  const commands = args.commands;
  if (!Array.isArray(commands)) {
    args.commands = REDACTED;
    return;
  }
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]!;
    if (!isJsonObject(command)) {
      commands[i] = masked(mask, command);
      continue;
    }
    if (Object.hasOwn(command, 'args')) {
      // A packed command is `{args}` alone: anything beside it may be a mis-shaped operand.
      for (const key of Object.keys(command)) if (key !== 'args') command[key] = masked(mask, command[key]!);
      const operands = command.args;
      if (Array.isArray(operands)) redactOperands(operands, true, mask);
      else command.args = masked(mask, operands!);
    } else {
      // Not a packed command: drop all of it rather than keep an unknown field that may be a
      // mis-shaped operand.
      for (const key of Object.keys(command)) delete command[key];
      command.args = REDACTED;
    }
  }
}

function redactCertificateKey(args: JsonObject, mask: SecretMask): void {
  if (Object.hasOwn(args, 'key')) args.key = masked(mask, args.key!);
}

function redactOperands(operands: JsonValue[], commandIsFirst: boolean, mask: SecretMask): void {
  let i = 0;
  if (commandIsFirst && operands.length > 0) {
    operands[0] = commandIdentity(operands[0]!, mask);
    i = 1;
  }
  for (; i < operands.length; i++) operands[i] = masked(mask, operands[i]!);
}

/** Redis command names are short words (GET, FT.SEARCH, CLIENT|LIST); anything else is redacted. */
const COMMAND_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._|-]{0,63}$/;

function commandIdentity(value: JsonValue, mask: SecretMask): JsonValue {
  if (typeof value !== 'string') return masked(mask, value);
  const name = value.trim();
  if (name === REDACTED || !COMMAND_NAME_RE.test(name)) return masked(mask, value);
  return name.toUpperCase();
}
