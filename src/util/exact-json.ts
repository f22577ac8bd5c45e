/**
 * Exact JSON: parse and write JSON without rounding integers beyond 2^53.
 *
 * `JSON.parse` turns 18446744073709551615 into 18446744073709552000, and an audit trail must not
 * alter what it records. Node 20 has no `JSON.parse` source access (Node 21+) nor `JSON.rawJSON`,
 * and lossless-json rejects duplicate keys that `JSON.parse` accepts (last one wins, which the
 * redaction rules rely on). So the native parser stays, and only lines that can hold such a number
 * take a detour: `mayHoldBigInteger` looks for a run of 16 digits (cheap, and false for almost every
 * line); `parseJson` then rewrites each unsafe integer token outside strings into a marked string,
 * lets `JSON.parse` do the rest (same semantics for duplicates, `__proto__`, depth), and turns the
 * marked strings into `ExactNumber`s. `stringifyJson` writes them back digit for digit.
 *
 * The marker holds a random per-process nonce, so input cannot forge one.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject, JsonValue } from './json';

const NONCE = randomBytes(9).toString('hex');
/**
 * What an ExactNumber serialises to inside `JSON.stringify`, before stringifyJson unquotes it. It
 * starts with a character JSON text rarely holds, so looking for it is a fast scan.
 */
const MARK = `~exact-${NONCE}~`;
const MARK_QUOTED = `"${MARK}`;
const MARK_RE = new RegExp(`"${MARK}(-?[0-9][0-9.eE+-]*)"`, 'g');

/**
 * A number a double cannot hold exactly (an integer beyond 2^53, a long fraction), kept as its JSON text. A scalar for every rule (the
 * redactor masks it under a sensitive key like any number); `JSON.stringify` writes the marker,
 * which stringifyJson turns back into the digits.
 */
export class ExactNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return MARK + this.text;
  }
  toString(): string {
    return this.text;
  }
}

/**
 * False when `text` cannot hold an integer beyond 2^53: it has no run of 16 digits. A run that
 * long covers two positions 8 apart, so only every 8th character is looked at, and the run around
 * a digit found there is measured.
 */
export function mayHoldBigInteger(text: string): boolean {
  const n = text.length;
  for (let i = 7; i < n; i += 8) {
    if (!isDigit(text.charCodeAt(i))) continue;
    let from = i;
    while (from > 0 && isDigit(text.charCodeAt(from - 1))) from--;
    let to = i + 1;
    while (to < n && isDigit(text.charCodeAt(to))) to++;
    if (to - from >= 16) return true;
    i = to; // the next sample is past this run
  }
  return false;
}

/**
 * `text` with every number token outside strings that has a run of 16 digits and that a double
 * would write differently (an integer beyond 2^53, a fraction with more digits than a double
 * holds) replaced by a marked string; null when there is none.
 */
function markBigIntegers(text: string): string | null {
  let out: string[] | null = null;
  let copied = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip the string.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
      continue;
    }
    if (c !== 45 /* - */ && (c < 48 || c > 57)) continue;
    const start = i;
    let j = c === 45 ? i + 1 : i;
    const digitsFrom = j;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    let longest = j - digitsFrom;
    if (j < n && text.charCodeAt(j) === 46 /* . */) {
      const from = ++j;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      longest = Math.max(longest, j - from);
    }
    if (j < n && (text.charCodeAt(j) | 32) === 101 /* e */) {
      j++;
      if (j < n && (text.charCodeAt(j) === 43 || text.charCodeAt(j) === 45)) j++;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
    }
    // 16 digits or more, and a double would write it differently: keep its text.
    if (longest >= 16 && JSON.stringify(Number(text.slice(start, j))) !== text.slice(start, j)) {
      out ??= [];
      out.push(text.slice(copied, start), MARK_QUOTED, text.slice(start, j), '"');
      copied = j;
    }
    i = j - 1;
  }
  if (out === null) return null;
  out.push(text.slice(copied));
  return out.join('');
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Replaces marked strings by ExactNumbers, iteratively (the parsed value may be 100 000 deep). */
function unmark(root: JsonValue): JsonValue {
  if (typeof root === 'string') return fromMark(root);
  const stack: (JsonObject | JsonValue[])[] = [];
  if (typeof root === 'object' && root !== null) stack.push(root);
  while (stack.length > 0) {
    const container = stack.pop()!;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const v = container[i]!;
        if (typeof v === 'string') {
          if (v.startsWith(MARK)) container[i] = fromMark(v);
        } else if (typeof v === 'object' && v !== null) stack.push(v as JsonObject | JsonValue[]);
      }
    } else {
      for (const key in container) {
        if (!Object.hasOwn(container, key)) continue;
        const v = container[key]!;
        if (typeof v === 'string') {
          if (v.startsWith(MARK)) container[key] = fromMark(v);
        } else if (typeof v === 'object' && v !== null) stack.push(v as JsonObject | JsonValue[]);
      }
    }
  }
  return root;
}

function fromMark(s: string): JsonValue {
  // Typed as a JsonValue; isJsonObject and the redactor's walk treat it as a scalar.
  return s.startsWith(MARK) ? (new ExactNumber(s.slice(MARK.length)) as unknown as JsonObject) : s;
}

/** True for an ExactNumber (which is typed as a JsonValue). */
export function isExactNumber(value: unknown): boolean {
  return value instanceof ExactNumber;
}

/**
 * `JSON.parse`, except that integers a double cannot hold exactly become ExactNumbers. Throws what
 * `JSON.parse` throws.
 */
export function parseJson(text: string): JsonValue {
  if (!mayHoldBigInteger(text)) return JSON.parse(text) as JsonValue;
  const marked = markBigIntegers(text);
  if (marked === null) return JSON.parse(text) as JsonValue;
  return unmark(JSON.parse(marked) as JsonValue);
}

/** `JSON.stringify` that writes ExactNumbers digit for digit. */
export function stringifyJson(value: JsonValue): string {
  const s = JSON.stringify(value);
  return s.indexOf(MARK) < 0 ? s : s.replace(MARK_RE, '$1');
}

/**
 * A deep copy of a parsed JSON value that keeps ExactNumbers (structuredClone would turn them
 * into plain objects). Iterative: the value may be deeply nested.
 */
export function cloneJson(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null || value instanceof ExactNumber) return value;
  const root: JsonObject | JsonValue[] = Array.isArray(value) ? [] : {};
  const stack: [JsonObject | JsonValue[], JsonObject | JsonValue[]][] = [[value, root]];
  while (stack.length > 0) {
    const [from, to] = stack.pop()!;
    if (Array.isArray(from)) {
      const target = to as JsonValue[];
      for (let i = 0; i < from.length; i++) target.push(copyOne(from[i]!, stack));
    } else {
      const target = to as JsonObject;
      for (const key in from) {
        if (!Object.hasOwn(from, key)) continue;
        Object.defineProperty(target, key, { value: copyOne(from[key]!, stack), writable: true, enumerable: true, configurable: true });
      }
    }
  }
  return root;
}

function copyOne(v: JsonValue, stack: [JsonObject | JsonValue[], JsonObject | JsonValue[]][]): JsonValue {
  if (typeof v !== 'object' || v === null || v instanceof ExactNumber) return v;
  const copy: JsonObject | JsonValue[] = Array.isArray(v) ? [] : {};
  stack.push([v, copy]);
  return copy;
}

/** Whether `value` holds an ExactNumber anywhere (iterative). */
export function hasExactNumber(value: JsonValue): boolean {
  const stack: JsonValue[] = [value];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (v instanceof ExactNumber) return true;
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push(v[i]!);
    else for (const key in v) if (Object.hasOwn(v, key)) stack.push(v[key]!);
  }
  return false;
}
