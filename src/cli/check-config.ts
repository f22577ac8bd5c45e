/**
 * `audit-router check-config -c FILE`: validates a config exactly as a run would (the same
 * loadConfig) and prints the resolved pipeline, with secrets in sink options redacted.
 * Exit 0 when valid, 2 when not.
 */
import { Command } from 'commander';
import { isRequired, loadConfig, type ConfigFlags, type RouterConfig } from '../core/config';
import { Redactor } from '../transforms/redact';

/** The resolved pipeline, as check-config prints it: secrets in sink options redacted. */
export function describeConfig(config: RouterConfig): unknown {
  const redactor = new Redactor({ fields: [] });
  const sink = (s: RouterConfig['sinks'][number]) => ({
    name: s.name,
    type: s.type,
    options: redactor.redactValue(JSON.parse(JSON.stringify(s.options))),
  });
  return {
    config: config.file,
    input: config.input,
    redact: {
      mode: config.redact.mode,
      extra_fields: config.redact.fields,
      policy: config.redact.policy,
      policy_fields: config.redact.policyFields,
    },
    sinks: config.sinks.map(sink),
    dead_letter: config.deadLetter ? sink(config.deadLetter) : null,
    sources: config.sources.map((s) => ({ name: s.name, type: s.type, options: s.options })),
    data_dir: config.dataDir,
    kubernetes: config.kubernetes,
    shutdown_timeout_ms: config.shutdownTimeoutMs,
    log_level: config.logLevel,
    on_audit_failure: config.onAuditFailure,
    required_sinks: config.sinks.filter(isRequired).map((s) => s.name),
    api: config.api,
  };
}

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('validate a config and print the resolved pipeline; exit 0 when valid, 2 when not')
    .exitOverride()
    .requiredOption('-c, --config <file>', 'the TOML config to check')
    .action(async (flags: ConfigFlags) => {
      const config = await loadConfig(flags);
      process.stdout.write(JSON.stringify(describeConfig(config), null, 2) + '\n');
    });
}
