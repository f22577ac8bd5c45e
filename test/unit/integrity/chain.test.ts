/**
 * The chained record format (src/integrity/chain.ts) on its edges, and keyed redaction tokens:
 * what docs/integrity.md promises a third-party verifier, checked byte by byte.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainValue, GENESIS, originalJson, parseRecord, recordBody, sealedLine, signedPart } from '../../../src/integrity/chain';
import { checkSignature, signCheckpoint } from '../../../src/integrity/checkpoint';
import { hmacMasker, redactionToken } from '../../../src/integrity/redaction-token';
import { Redactor } from '../../../src/transforms/redact';

const KEY = Buffer.from('k'.repeat(64));
const line = (json: string, seq: number, kind: 'event' | 'open' | 'checkpoint' = 'event', sig?: Buffer): Buffer => {
  const body = recordBody(json, seq, kind);
  return Buffer.from(sealedLine(body, chainValue(KEY, GENESIS, body), sig).slice(0, -1));
};

describe('chained records', () => {
  it('adds _seq and _chain as the last keys; the event is recovered byte for byte', () => {
    const json = '{"a":1,"b":"x"}';
    const bytes = line(json, 7);
    expect(bytes.toString()).toMatch(/^\{"a":1,"b":"x","_seq":7,"_chain":"[0-9a-f]{64}"\}$/);
    const r = parseRecord(bytes)!;
    expect(r).toMatchObject({ seq: 7, kind: 'event', signature: null });
    expect(originalJson(r)).toBe(json);
    expect(JSON.parse(bytes.toString())).toEqual({ a: 1, b: 'x', _seq: 7, _chain: r.chain.toString('hex') });
  });

  it('the chain value is HMAC-SHA256(key, prev || BODY), as documented', () => {
    const body = recordBody('{"a":1}', 1);
    expect(chainValue(KEY, GENESIS, body).toString('hex')).toBe(createHmac('sha256', KEY).update(GENESIS).update(body).digest('hex'));
  });

  it('an empty event is {"_seq":N,...}', () => {
    const bytes = line('{}', 3);
    expect(bytes.toString()).toMatch(/^\{"_seq":3,"_chain":"[0-9a-f]{64}"\}$/);
    expect(originalJson(parseRecord(bytes)!)).toBe('{}');
  });

  it('an event cannot pass for one of audit-router\'s own records', () => {
    const mimic = '{"audit_router":"checkpoint","_seq":1,"_record":"checkpoint"}';
    expect(parseRecord(line(mimic, 9))!.kind).toBe('event');
    expect(parseRecord(line('{"audit_router":"checkpoint"}', 9, 'checkpoint'))!.kind).toBe('checkpoint');
  });

  it('a checkpoint signature covers BODY and the chain field', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const body = recordBody('{"audit_router":"checkpoint"}', 4, 'checkpoint');
    const chain = chainValue(KEY, GENESIS, body);
    const sig = signCheckpoint(privateKey, signedPart(body, chain));
    const r = parseRecord(Buffer.from(sealedLine(body, chain, sig).slice(0, -1)))!;
    expect(checkSignature(publicKey, r.signed, r.signature!)).toBe(true);
    expect(checkSignature(publicKey, Buffer.from(r.signed.toString().replace('4', '5')), r.signature!)).toBe(false);
  });

  it('refuses lines without valid chain fields', () => {
    for (const bad of ['{"a":1}', '{"a":1,"_seq":1,"_chain":"xyz"}', '{"a":1,"_chain":"' + '0'.repeat(64) + '"}', '{"a":1,"_seq":01,"_chain":"' + '0'.repeat(64) + '"}']) {
      expect(parseRecord(Buffer.from(bad)), bad).toBeNull();
    }
    const signedEvent = sealedLine(recordBody('{"a":1}', 1), GENESIS, Buffer.alloc(64)).slice(0, -1);
    expect(parseRecord(Buffer.from(signedEvent))).toBeNull();
  });
});

describe('keyed redaction tokens', () => {
  it('are HMAC-SHA256 truncated to 24 hex, for strings and for other values as JSON', () => {
    expect(redactionToken(KEY, 'hunter2')).toBe(`[REDACTED:hmac-sha256:${createHmac('sha256', KEY).update('hunter2').digest('hex').slice(0, 24)}]`);
    const mask = hmacMasker(KEY);
    expect(mask(12345)).toBe(redactionToken(KEY, '12345'));
    expect(mask('[REDACTED]')).toBe('[REDACTED]');
    expect(mask(mask('x'))).toBe(mask('x'));
  });

  it('keep redaction idempotent', () => {
    const redactor = new Redactor({ mask: hmacMasker(KEY) });
    const event = {
      fields: {
        tool: 'redis_command',
        password: 'p1',
        message: 'login password=p2 token: Bearer abc.def',
        url: 'redis://u:p3@h:6379',
        arguments: JSON.stringify({ command: 'set', args: ['k', 'v'] }),
      },
    };
    const once = JSON.stringify(redactor.redactEvent(JSON.parse(JSON.stringify(event))));
    const twice = JSON.stringify(redactor.redactEvent(JSON.parse(once)));
    expect(twice).toBe(once);
    for (const secret of ['p1', 'p2', 'p3', 'abc.def']) expect(once.includes(`:${secret}`) || once.includes(`=${secret}`) || once.includes(`"${secret}"`)).toBe(false);
  });
});
