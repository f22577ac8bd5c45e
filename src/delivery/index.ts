/** The delivery layer shared by network sinks: a sink supplies a Transport, this does the rest. */
export { createDeliverySink } from './delivery';
export type { DeliveryOutcome, DeliverySink, DeliverySinkParams, Transport } from './delivery';
export { DeliveryError, httpStatusError, retryAfterFromHeaders, timeoutError, tlsVerifyError, toDeliveryError, errorCode } from './errors';
export type { FailureKind, HeaderLookup } from './errors';
export { parseDeliveryOptions, DELIVERY_KEYS } from './options';
export type { DeliveryConfig, DeliveryDefaults, BufferConfig, FsyncPolicy } from './options';
export { backoffDelay } from './backoff';
export { sinkEventFromJson } from './store';
