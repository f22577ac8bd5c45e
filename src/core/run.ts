/**
 * Lifecycle and topology: build every component from a validated config, then
 * source chunks → framing (lines) → router → sinks until EOF or a signal, then flush and close
 * every sink, and compute the exit status. The only file that knows every stage.
 *
 * Exit status: 0 when input ended and every accepted event was delivered (or, by a sink's own
 * policy, kept in its disk buffer or dead-lettered); 1 when some could not be written, or a
 * required sink could not record some (on_audit_failure = "continue"); 3 when
 * on_audit_failure = "exit" stopped the run (src/core/audit-guard.ts).
 *
 * With `api.address` set, the API server (src/observe/, loaded only then, with prom-client)
 * starts before the sinks, so the probes answer during start-up, and stops after the finished line.
 */
import { isRequired, type RouterConfig, type SinkSpec } from './config';
import { AuditGuard } from './audit-guard';
import type { Source, SourceChunk, StreamFraming } from '../api/source';
import { newDecoderCounters } from '../framing/decoder';
import { StreamFramer } from '../framing/stream';
import { AckTracker } from './acks';
import type { KubernetesMetadata, SinkRole } from '../api/sink';
import { DeadLetterRouter } from './dead-letter';
import { SinkError } from '../util/errors';
import { writeStderr, type Logger } from '../util/log';
import { Router } from './router';
import { Redactor } from '../transforms/redact';
import { loadSinkModule } from './registry';
import { loadAuditValidator, Selector } from '../transforms/select';
import { undelivered, type DeadLetter, type DeliveryLatency, type Sink } from '../api/sink';
import type { ApiServer } from '../observe/server';
import type { RunPhase, RunView } from '../observe/view';

/** Exit status when on_audit_failure = "exit" stopped the run. */
export const EXIT_AUDIT_FAILURE = 3;
/** Distinct redaction rule names counted; more (there are not: the redactor has a fixed set) count as "other". */
const MAX_REDACTION_RULES = 64;

export interface RunIO {
  source: Source;
  logger: Logger;
  /** Where passthrough lines go (stderr by default). */
  passthrough?: (text: string) => void;
}

async function buildSink(
  spec: SinkSpec,
  logger: Logger,
  deadLetter: DeadLetter,
  role: SinkRole = 'sink',
  latency?: DeliveryLatency,
  kubernetes: KubernetesMetadata | null = null,
): Promise<Sink> {
  const mod = await loadSinkModule(spec.type, spec.baseDir);
  try {
    return await mod.createSink(spec.options, { name: spec.name, logger, deadLetter, baseDir: spec.baseDir, role, kubernetes, ...(latency ? { latency } : {}) });
  } catch (err) {
    throw err instanceof SinkError ? err : new SinkError(`could not start: ${(err as Error).message}`, spec.name, { cause: err });
  }
}

export async function run(config: RouterConfig, io: RunIO): Promise<number> {
  const { logger, source } = io;
  const signals = source.signals ?? process;
  // Masks by rule, for the finished line and audit_router_redactions_total{rule}: one increment
  // per mask written (the Redactor's observe seam); the rule names are the redactor's own, capped
  // all the same so a label set can never grow without bound.
  const redactions: Record<string, number> = {};
  let ruleNames = 0;
  const countMask = (rule: string): void => {
    const seen = redactions[rule];
    if (seen !== undefined) redactions[rule] = seen + 1;
    else if (ruleNames < MAX_REDACTION_RULES) {
      ruleNames++;
      redactions[rule] = 1;
    } else redactions['other'] = (redactions['other'] ?? 0) + 1;
  };
  const redactor = new Redactor({
    fields: [...config.redact.fields, ...config.redact.policyFields],
    mask: config.redact.mask,
    observe: countMask,
  });
  const selector = new Selector(loadAuditValidator());

  // Signal handlers go in before the sinks start (opening files, loading a client can take a
  // while): a SIGTERM then stops the run cleanly instead of killing the process by default.
  const sinks: Sink[] = [];
  let deadLetterSink: Sink | null = null;
  let stopping: string | null = null;
  const onStop = (signal: string) => () => {
    if (stopping) return;
    stopping = signal;
    logger.info('stopping: no more input is read', { signal });
    source.stop();
  };
  const onTerm = onStop('SIGTERM');
  const onInt = onStop('SIGINT');
  const onHup = (): void => {
    logger.info('SIGHUP: reopening files');
    const all = deadLetterSink ? [...sinks, deadLetterSink] : sinks;
    for (const sink of all) {
      sink.reopen?.().catch((err: Error) => logger.error('reopen failed', { sink: sink.name, error: err.message }));
    }
  };
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  signals.on('SIGHUP', onHup);
  const detach = (): void => {
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
    signals.off('SIGHUP', onHup);
  };

  // What the API server sees (src/observe/view.ts): read at scrape time, never pushed.
  let phase: RunPhase = 'starting';
  let router: Router | null = null;
  const required: Sink[] = [];
  const requiredNames = new Set(config.sinks.filter(isRequired).map((s) => s.name));
  const guard = new AuditGuard(config.onAuditFailure, required, logger);
  const view: RunView = {
    phase: () => phase,
    lines: () => (router ? [{ source: null, counters: router.counters }] : []),
    sinks: () => (deadLetterSink ? [...sinks, deadLetterSink] : sinks),
    required: () => requiredNames,
    redactions: () => redactions,
    auditFailures: () => guard.failures,
    blocked: () => guard.blocked,
    blockedSeconds: () => guard.blockedSeconds,
    sourceFiles: () => [],
  };

  const noDeadLetter = new DeadLetterRouter(null, redactor, logger);
  let deadLetter: DeadLetterRouter;
  let api: ApiServer | null = null;
  try {
    if (config.api) {
      const { startApiServer } = require('../observe/server') as typeof import('../observe/server');
      api = await startApiServer(
        view,
        { ...config.api, toolLabels: config.metrics.toolLabels, toolLabelsMax: config.metrics.toolLabelsMax },
        logger,
      );
    }
    // The dead-letter role: the file sink then counts its own write failures as failed instead of
    // handing them to a dead letter, so they change the exit status.
    deadLetterSink = config.deadLetter
      ? await buildSink(config.deadLetter, logger, noDeadLetter, 'dead_letter', api?.recorder(config.deadLetter.name))
      : null;
    deadLetter = new DeadLetterRouter(deadLetterSink, redactor, logger);
    for (const spec of config.sinks) {
      const sink = await buildSink(spec, logger, deadLetter, 'sink', api?.recorder(spec.name), config.kubernetes);
      sinks.push(sink);
      if (requiredNames.has(spec.name)) required.push(sink);
    }
  } catch (err) {
    detach();
    await api?.close();
    throw err;
  }

  const passthrough = config.input.passthrough
    ? (io.passthrough ?? writeStderr)
    : null;
  const routing = new Router({
    selector,
    redactor,
    sinks,
    deadLetter,
    passthrough,
    logger,
    onEvent: api?.onEvent ?? null,
  });
  router = routing;
  guard.watch(() => {
    if (stopping) return;
    stopping = 'audit_failure';
    if (source.terminate) source.terminate(config.auditFailureGraceMs);
    else source.stop();
  });

  logger.info('started', {
    sinks: sinks.map((s) => `${s.name}:${s.type}`).join(','),
    dead_letter: deadLetterSink ? 'file' : 'none',
    passthrough: passthrough !== null,
    max_line_bytes: config.input.maxLineBytes,
    redact_fields: config.redact.fields.length + config.redact.policyFields.length,
    on_audit_failure: config.onAuditFailure,
    required: [...requiredNames].join(','),
  });
  phase = 'running';

  // Framing: one framer per stream, so a partial line of one file never joins another's.
  const framing = newDecoderCounters();
  const framers = new Map<string, StreamFramer>();
  const framerFor = (f: StreamFraming, stream: string): StreamFramer =>
    new StreamFramer(
      {
        format: f.format,
        maxLineBytes: config.input.maxLineBytes,
        streams: f.streams ? new Set(f.streams) : null,
        onDetect: (format) => logger.info('input format detected', { stream, format }),
      },
      routing,
      framing,
    );
  const single = framerFor({ format: config.input.format, streams: config.input.streams ?? undefined }, 'input');
  // Acknowledgements flow back to a source that keeps checkpoints.
  const acks = source.commit
    ? new AckTracker(sinks, deadLetterSink, (stream, offset) => source.commit!(stream, offset))
    : null;
  const ackTimer = acks ? setInterval(() => acks.poll(), 100) : null;
  ackTimer?.unref();
  const routeChunk = (chunk: SourceChunk): void => {
    let framer = framers.get(chunk.stream);
    if (framer === undefined) {
      framer = framerFor(chunk.framing ?? { format: config.input.format, streams: config.input.streams ?? undefined }, chunk.label ?? chunk.stream);
      framer.startAt(chunk.offset);
      framers.set(chunk.stream, framer);
    }
    routing.source = chunk.label;
    if (chunk.data.length > 0) framer.push(chunk.data);
    if (chunk.end) {
      if (framer.end()) framing.incomplete++;
      framers.delete(chunk.stream);
    }
    acks?.mark(chunk.stream, framer.committable);
    if (chunk.end) acks?.forget(chunk.stream);
  };

  let inputError: string | null = null;
  try {
    for await (const chunk of source.chunks) {
      if (Buffer.isBuffer(chunk)) single.push(chunk);
      else routeChunk(chunk);
      await routing.settle();
      acks?.poll();
      // on_audit_failure = "exit" with a wrapper reads on until the stopped command's stderr ends.
      if (stopping && !(stopping === 'audit_failure' && source.terminate)) break;
      await guard.afterChunk(() => stopping !== null);
    }
  } catch (err) {
    // Destroying the input to stop on a signal ends the loop with a premature-close error.
    // The code (EIO, ...) or the error's name, never its message: it may quote what was read.
    if (!stopping) inputError = (err as NodeJS.ErrnoException).code ?? (err as Error).name ?? 'error';
  }
  if (inputError) logger.error('input failed; routing what was read', { error: inputError });
  phase = 'stopping';
  guard.stop();
  // End of input: a last line that had no newline, parts still held. Their offsets are not
  // checkpointed: after a restart the line is read again, whole if its writer finished it.
  if (single.end()) framing.incomplete++;
  for (const [stream, framer] of framers) {
    routing.source = stream;
    if (framer.end()) framing.incomplete++;
  }
  await routing.settle();

  const deadline = Date.now() + config.shutdownTimeoutMs;
  await Promise.all(sinks.map((s) => s.close(deadline)));
  if (deadLetterSink) await deadLetterSink.close(Math.max(deadline, Date.now() + 5_000));
  if (ackTimer) clearInterval(ackTimer);
  acks?.poll();
  acks?.poll(); // a second time: marks that waited for the dead-letter file
  await source.close?.();
  detach();

  const lost = sinks.reduce((n, s) => n + undelivered(s.counters), 0) + deadLetter.lostEvents + deadLetter.failed;
  const perSink: Record<string, unknown> = {};
  for (const s of sinks) perSink[s.name] = { ...s.counters };
  const auditFailures = guard.failures;
  logger.info('finished', {
    ...routing.counters,
    dead_lettered: deadLetter.total,
    dead_letter_failed: deadLetter.failed,
    ...(config.input.format !== 'raw' || source.counters
      ? { framing: { parts_joined: framing.partsJoined, other_stream: framing.otherStream, incomplete: framing.incomplete } }
      : {}),
    ...(source.counters ? { sources: { [source.name]: { ...source.counters } } } : {}),
    sinks: perSink,
    lost,
    audit_failures: auditFailures,
    redactions: { ...redactions },
    reason: stopping ?? (inputError ? 'input_error' : 'eof'),
  });
  await api?.close();
  const exitCause = guard.exitCause;
  if (exitCause) {
    logger.error('stopped by on_audit_failure = "exit"', { sink: exitCause.sink.name, cause: exitCause.cause, lost });
    return EXIT_AUDIT_FAILURE;
  }
  if (lost > 0) {
    const where = sinks.filter((s) => undelivered(s.counters) > 0).map((s) => s.name);
    if (deadLetter.failed > 0 || deadLetter.lostEvents > 0) where.push('dead_letter');
    logger.error(`${lost} accepted events could not be written`, { lost, sinks: where.join(',') });
    return 1;
  }
  if (guard.unrecorded > 0) {
    const where = required.filter((s) => s.counters.deadLettered + s.counters.failed > 0).map((s) => s.name);
    logger.error(`${guard.unrecorded} events were not recorded by a required sink (kept in the dead letter)`, {
      audit_failures: auditFailures,
      sinks: where.join(','),
    });
    return 1;
  }
  return 0;
}
