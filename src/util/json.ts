/** JSON value types for the data path: no `any`. */
import { ExactNumber } from './exact-json';

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * An object, not an array and not an ExactNumber (an integer beyond 2^53 that parseJson keeps as
 * its text, util/exact-json.ts: typed as a JsonValue, it is a scalar for every rule).
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ExactNumber);
}
