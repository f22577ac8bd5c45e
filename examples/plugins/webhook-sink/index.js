// @ts-check
/**
 * An example sink plugin, written against `audit-router/sdk` alone: it POSTs each batch of
 * redacted audit events as JSON lines (application/x-ndjson) to `url`. The delivery layer
 * gives it the queue, batching, retries with backoff (Retry-After honoured), the optional disk
 * buffer, the dead letter and the bounded shutdown — all the plugin writes is how to send one
 * batch. Install it beside audit-router and set `type = "audit-router-sink-webhook"`.
 */
const { createDeliverySink, httpStatusError, parseDeliveryOptions, parseDuration, ConfigError } = require('audit-router/sdk');

/** @typedef {import('audit-router/sdk').SinkEvent} SinkEvent */
/** @typedef {import('audit-router/sdk').Transport} Transport */

/** Validated by audit-router before anything starts; the delivery keys come from its own schema. */
const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^https?://' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    timeout: { oneOf: [{ type: 'string' }, { type: 'number', minimum: 1 }] },
    queue: { $ref: 'delivery.schema.json#/$defs/queue' },
    batch: { $ref: 'delivery.schema.json#/$defs/batch' },
    retry: { $ref: 'delivery.schema.json#/$defs/retry' },
    buffer: { $ref: 'delivery.schema.json#/$defs/buffer' },
    when_full: { $ref: 'delivery.schema.json#/$defs/when_full' },
  },
};

/** @implements {Transport} */
class WebhookTransport {
  /** @param {string} url @param {Record<string, string>} headers */
  constructor(url, headers) {
    this.url = url;
    this.headers = { 'content-type': 'application/x-ndjson', ...headers };
    this.maxEventBytes = 1_000_000;
  }

  /** @param {SinkEvent} event */
  size(event) {
    return Buffer.byteLength(event.json) + 1;
  }

  /** @param {readonly SinkEvent[]} batch @param {AbortSignal} signal */
  async send(batch, signal) {
    let body = '';
    for (const event of batch) body += event.json + '\n';
    const response = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal });
    await response.arrayBuffer(); // read to the end so the connection can be reused
    if (!response.ok) throw httpStatusError(response.status, (name) => response.headers.get(name));
  }

  async close() {}
}

/** @type {import('audit-router/sdk').SinkFactory} */
const createSink = (options, context) => {
  const url = /** @type {string} */ (options['url']);
  const timeout = options['timeout'] === undefined ? 10_000 : parseDuration(/** @type {string|number} */ (options['timeout']));
  if (timeout === null) throw new ConfigError('must be a duration such as "10s"', undefined, `sinks.${context.name}.timeout`);
  const config = parseDeliveryOptions(options, context.name, context.baseDir, { attemptTimeoutMs: timeout });
  const headers = /** @type {Record<string, string>} */ (options['headers'] ?? {});
  return createDeliverySink({ type: 'webhook', config, transport: new WebhookTransport(url, headers), context });
};

module.exports = { createSink, optionsSchema };
