/**
 * Chain status for the report: whether the trail is a tamper-evident chain (issue 12: each line
 * sealed with `_seq` and `_chain`, audit-router's own `open` and `checkpoint` records between the
 * events) and, when it is, what verifying it says.
 *
 * The probe notices chain fields while the trail is read (one property lookup per event).
 * Verification is the integrity module's job (`audit-router verify`, src/integrity/); this build
 * does not have it yet, so a chained trail is reported as chained but unverified ("unavailable"),
 * never as intact. `chainStatus` is the one place that changes once the verifier lands.
 */
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

export function chainStatus(probe: ChainProbe): ChainStatus {
  const chained = probe.chainedEvents + probe.controlRecords;
  if (chained === 0) {
    return { status: 'not_chained', detail: 'not chained: no record carries chain fields (_seq, _chain)' };
  }
  const mixed = probe.plainEvents > 0 ? `; ${probe.plainEvents} events carry none` : '';
  return {
    status: 'unavailable',
    detail: `chained (${probe.chainedEvents} events, ${probe.controlRecords} chain records${mixed}), not verified here: run \`audit-router verify\` on these files`,
  };
}
