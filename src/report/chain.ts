/**
 * Chain status for the report: whether the trail is a tamper-evident chain (docs/integrity.md:
 * each line sealed with `_seq` and `_chain`, audit-router's own `open` and `checkpoint` records
 * between the events) and, when it is, what the integrity module's verifier says about it.
 *
 * The probe notices chain fields while the report reads (one property lookup per event). Only
 * a chained trail is verified, by `verifyPaths` (the code `audit-router verify` runs), on the same
 * paths: that is a second read of the files. "Intact" is said only when something was checked
 * with a key: the HMAC chain (--key) or the checkpoint signatures (--public-key). Without either,
 * a break the verifier still finds (a sequence gap, a truncated tail) is reported; otherwise the
 * status is "unavailable", with what to pass.
 */
import type { KeyObject } from 'node:crypto';
import { verifyPaths, type Finding, type VerifyReport } from '../integrity';
import type { JsonObject } from '../util/json';
import type { ChainStatus } from './model';

export class ChainProbe {
  /** Events that carry chain fields. */
  chainedEvents = 0;
  /** Events without them. */
  plainEvents = 0;
  /** audit-router's own chain records (open, checkpoint). */
  controlRecords = 0;

  event(record: JsonObject): void {
    if (typeof record['_chain'] === 'string') this.chainedEvents++;
    else this.plainEvents++;
  }

  /** A non-event JSON record: is it one of the chain's own (`audit_router: open|checkpoint`)? */
  control(value: JsonObject): boolean {
    const kind = value['audit_router'];
    if ((kind === 'open' || kind === 'checkpoint') && typeof value['_chain'] === 'string') {
      this.controlRecords++;
      return true;
    }
    return false;
  }
}

export interface ChainKeys {
  /** The chain (HMAC) key: every record is checked. */
  key: Buffer | null;
  /** The Ed25519 public key: every checkpoint's signature is checked. */
  publicKey: KeyObject | null;
}

/** `paths`: the file and directory arguments (stdin cannot be verified: it is read once). */
export async function chainStatus(probe: ChainProbe, paths: readonly string[], keys: ChainKeys): Promise<ChainStatus> {
  const chained = probe.chainedEvents + probe.controlRecords;
  if (chained === 0) {
    return { status: 'not_chained', detail: 'not chained: no record carries chain fields (_seq, _chain)' };
  }
  const what = `${probe.chainedEvents} chained events, ${probe.controlRecords} chain records${probe.plainEvents > 0 ? `, ${probe.plainEvents} events without chain fields` : ''}`;
  if (paths.length === 0) {
    return { status: 'unavailable', detail: `chained (${what}) but read from stdin: verify the files with audit-router verify` };
  }
  let report: VerifyReport;
  try {
    report = await verifyPaths([...paths], { key: keys.key, publicKey: keys.publicKey });
  } catch (err) {
    // The code or name only: a message could quote what was read.
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name ?? 'error';
    return { status: 'unavailable', detail: `chained (${what}), but the verifier stopped (${code}): run audit-router verify` };
  }
  const breaks: Finding[] = [];
  let records = 0;
  for (const trail of report.trails) {
    records += trail.records;
    for (const f of trail.findings) if (f.severity === 'error') breaks.push(f);
  }
  if (breaks.length > 0) {
    const first = breaks[0]!;
    const at = first.line === undefined ? first.file : `${first.file}:${first.line}`;
    const more = breaks.length > 1 ? ` (${breaks.length} findings; audit-router verify lists them)` : '';
    return { status: 'broken', detail: `broken at ${at}: ${first.kind}: ${first.message}${more}`, file: first.file, line: first.line ?? 0 };
  }
  const checked = [report.checked.chain ? 'HMAC chain' : '', report.checked.signatures ? 'checkpoint signatures' : ''].filter(Boolean);
  if (checked.length === 0) {
    return {
      status: 'unavailable',
      detail: `chained (${what}); sequence and structure intact, chain values not checked: pass --key (or --public-key) to verify`,
    };
  }
  return { status: 'intact', detail: `verified intact (${checked.join(' and ')}): ${records} records in ${report.trails.length} trail(s)`, records };
}
