/**
 * `audit-router report` as a function: sources planned, read through the router's Selector and
 * Redactor, aggregated, and the Report returned for a renderer (terminal.ts, html.ts, or JSON).
 */
import type { Readable } from 'node:stream';
import { Redactor } from '../transforms/redact';
import { loadAuditValidator, Selector } from '../transforms/select';
import { Aggregator, type Filters } from './aggregate';
import { ChainProbe, chainStatus, type ChainKeys } from './chain';
import type { Report } from './model';
import { Progress, type ProgressStream } from './progress';
import { readSources } from './read';
import { planSources } from './sources';

export interface ReportOptions {
  inputs: readonly string[];
  filters: Filters;
  /** Extra field names to redact (policy file, --redact-field). */
  redactFields: readonly string[];
  stdin: Readable;
  /** Where the progress bar goes (drawn only when it is a TTY). */
  progress: ProgressStream;
  /** Keys for verifying a chained trail (either may be null). */
  chainKeys: ChainKeys;
}

export interface ReportResult {
  report: Report;
  /** Some source could not be read to its end: the report covers what was read. */
  incomplete: boolean;
}

/** Control characters in a displayed name become U+FFFD: a name cannot drive the terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export async function buildReport(options: ReportOptions): Promise<ReportResult> {
  const plan = planSources(options.inputs);
  const redactor = new Redactor({ fields: options.redactFields });
  const aggregator = new Aggregator(options.filters);
  const chain = new ChainProbe();
  const progress = new Progress(options.progress, plan.sources.reduce((n, s) => n + s.size, 0));
  const { inputs, incomplete } = await readSources(
    plan.sources,
    { selector: new Selector(loadAuditValidator()), redactor, aggregator, chain, progress, stdin: options.stdin },
    plan.notes,
  );
  progress.finish();
  const display = (name: string): string => redactor.redactText(name).replace(CONTROL, '\ufffd');
  const paths = options.inputs.filter((p) => p !== '-');
  const status = await chainStatus(chain, paths, options.chainKeys);
  return { report: aggregator.finish(inputs, status, display), incomplete };
}
