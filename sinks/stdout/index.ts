/**
 * The `stdout` sink: one JSON event per line on standard output, for a pipe into another tool.
 *
 * When the reader goes away (EPIPE) the sink stops writing for good: the events not written
 * are dead-lettered (or counted failed) and the error is logged once. The process never dies of it.
 */
import type { Writable } from 'node:stream';
import { LineSink } from '../../src/sdk';
import type { Target, LogFields, SinkContext, SinkFactory } from '../../src/sdk';
import OPTIONS_SCHEMA from './options.schema.json';

class StdoutSink extends LineSink {
  private broken = false;

  constructor(
    context: SinkContext,
    private readonly out: Writable,
  ) {
    super(context.name, 'stdout', context.logger, context.role === 'dead_letter' ? null : context.deadLetter);
    out.on('error', this.onError);
  }

  protected target(): Target {
    return this.broken ? false : this.out;
  }

  protected writeFailed(): void {
    this.broken = true;
  }

  protected async release(): Promise<void> {
    // Standard output is not ours to close: everything written has been handed to the OS.
    // The error listener stays: a late EPIPE must not crash the process either.
  }

  protected abandon(): void {
    this.broken = true;
  }

  protected describe(): LogFields {
    return { stream: 'stdout' };
  }

  private readonly onError = (error: Error): void => {
    this.report(error);
    this.broken = true;
  };
}

/** The options schema: the stdout sink takes none. */
export const optionsSchema: object = OPTIONS_SCHEMA;

/** Writes to `context.stdout` (process.stdout unless the core or a test passes another stream). */
export const createSink: SinkFactory = (options, context) => {
  const sink = new StdoutSink(context, context.stdout ?? process.stdout);
  if (options['enrich'] === true && context.role !== 'dead_letter') sink.enrichWith(context.kubernetes);
  return sink;
};
