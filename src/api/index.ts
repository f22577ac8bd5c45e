/** The contracts between the core and its components: sources produce bytes, sinks take redacted events. */
export type * from './sink';
export { kubernetesRecord, newCounters, undelivered } from './sink';
export type * from './source';
