/**
 * Lifecycle and topology: build every component from a validated config, then
 * source chunks → framing (lines) → router → sinks until EOF or a signal, then flush and close
 * every sink, and compute the exit status. The only file that knows every stage.
 *
 * Exit status: 0 when input ended and every accepted event was delivered (or, by a sink's own
 * policy, kept in its disk buffer or dead-lettered); 1 when some could not be written.
 */
import type { RouterConfig, SinkSpec } from './config';
import { LineSplitter } from '../framing/lines';
import type { Source } from '../api/source';
import type { SinkRole } from '../api/sink';
import { DeadLetterRouter } from './dead-letter';
import { SinkError } from '../util/errors';
import { writeStderr, type Logger } from '../util/log';
import { Router } from './router';
import { Redactor } from '../transforms/redact';
import { loadSinkModule } from './registry';
import { loadAuditValidator, Selector } from '../transforms/select';
import { undelivered, type DeadLetter, type Sink } from '../api/sink';

export interface RunIO {
  source: Source;
  logger: Logger;
  /** Where passthrough lines go (stderr by default). */
  passthrough?: (text: string) => void;
}

async function buildSink(spec: SinkSpec, logger: Logger, deadLetter: DeadLetter, role: SinkRole = 'sink'): Promise<Sink> {
  const mod = await loadSinkModule(spec.type, spec.baseDir);
  try {
    return await mod.createSink(spec.options, { name: spec.name, logger, deadLetter, baseDir: spec.baseDir, role });
  } catch (err) {
    throw err instanceof SinkError ? err : new SinkError(`could not start: ${(err as Error).message}`, spec.name, { cause: err });
  }
}

export async function run(config: RouterConfig, io: RunIO): Promise<number> {
  const { logger, source } = io;
  const signals = source.signals ?? process;
  const redactor = new Redactor({ fields: [...config.redact.fields, ...config.redact.policyFields], mask: config.redact.mask });
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

  const noDeadLetter = new DeadLetterRouter(null, redactor, logger);
  let deadLetter: DeadLetterRouter;
  try {
    // The dead-letter role: the file sink then counts its own write failures as failed instead of
    // handing them to a dead letter, so they change the exit status.
    deadLetterSink = config.deadLetter ? await buildSink(config.deadLetter, logger, noDeadLetter, 'dead_letter') : null;
    deadLetter = new DeadLetterRouter(deadLetterSink, redactor, logger);
    for (const spec of config.sinks) sinks.push(await buildSink(spec, logger, deadLetter));
  } catch (err) {
    detach();
    throw err;
  }

  const passthrough = config.input.passthrough
    ? (io.passthrough ?? writeStderr)
    : null;
  const splitter = new LineSplitter(config.input.maxLineBytes);
  const router = new Router({
    selector,
    redactor,
    sinks,
    deadLetter,
    passthrough,
    logger,
  });

  logger.info('started', {
    sinks: sinks.map((s) => `${s.name}:${s.type}`).join(','),
    dead_letter: deadLetterSink ? 'file' : 'none',
    passthrough: passthrough !== null,
    max_line_bytes: config.input.maxLineBytes,
    redact_fields: config.redact.fields.length + config.redact.policyFields.length,
  });

  let inputError: string | null = null;
  try {
    for await (const chunk of source.chunks) {
      splitter.push(chunk, router);
      await router.settle();
      if (stopping) break;
    }
  } catch (err) {
    // Destroying the input to stop on a signal ends the loop with a premature-close error.
    // The code (EIO, ...) or the error's name, never its message: it may quote what was read.
    if (!stopping) inputError = (err as NodeJS.ErrnoException).code ?? (err as Error).name ?? 'error';
  }
  if (inputError) logger.error('input failed; routing what was read', { error: inputError });
  // End of input: a last line that had no newline.
  splitter.end(router);
  await router.settle();

  const deadline = Date.now() + config.shutdownTimeoutMs;
  await Promise.all(sinks.map((s) => s.close(deadline)));
  if (deadLetterSink) await deadLetterSink.close(Math.max(deadline, Date.now() + 5_000));
  detach();

  const lost = sinks.reduce((n, s) => n + undelivered(s.counters), 0) + deadLetter.lostEvents + deadLetter.failed;
  const perSink: Record<string, unknown> = {};
  for (const s of sinks) perSink[s.name] = { ...s.counters };
  logger.info('finished', {
    ...router.counters,
    dead_lettered: deadLetter.total,
    dead_letter_failed: deadLetter.failed,
    sinks: perSink,
    lost,
    reason: stopping ?? (inputError ? 'input_error' : 'eof'),
  });
  if (lost > 0) {
    const where = sinks.filter((s) => undelivered(s.counters) > 0).map((s) => s.name);
    if (deadLetter.failed > 0 || deadLetter.lostEvents > 0) where.push('dead_letter');
    logger.error(`${lost} accepted events could not be written`, { lost, sinks: where.join(',') });
    return 1;
  }
  return 0;
}
