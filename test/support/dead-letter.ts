import type { DeadLetter, DeadLetterRecord } from '../../src/api/sink';

/** A dead-letter destination that keeps every record in memory, for sink tests. */
export class CollectingDeadLetter implements DeadLetter {
  records: DeadLetterRecord[] = [];
  write(record: DeadLetterRecord): boolean {
    this.records.push(record);
    return true;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
}
