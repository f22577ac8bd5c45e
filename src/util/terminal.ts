/**
 * Text for a terminal: what passthrough writes to stderr must not drive the terminal it lands on.
 *
 * A passthrough line is the MCP server's own output, redacted; its colour codes (SGR, `ESC [ … m`)
 * are kept, every other control character is written as a visible escape: other escape sequences
 * (`ESC ] 52 ;` sets the clipboard, `ESC [ 2 J` clears the screen, a title, a hyperlink), C0
 * controls but the tab (a bare CR overwrites what was shown, BEL, NUL), DEL, C1 controls (U+009B
 * is a CSI by itself) and the bidi overrides that reorder what is read (U+202A–U+202E,
 * U+2066–U+2069).
 */

const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /\x1b\[[0-9;:]*m|[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  if (c.length > 1) return c; // a colour code, kept
  const code = c.charCodeAt(0);
  if (code === 13) return '\\r';
  if (code === 10) return '\\n';
  if (code < 0x80) return '\\x' + code.toString(16).padStart(2, '0');
  return '\\u' + code.toString(16).padStart(4, '0');
}

/** `text` with every control character but the tab and colour codes written as an escape. */
export function escapeForTerminal(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, visible) : text;
}

/** Characters a terminal acts on that JSON.stringify writes raw: DEL, C1 controls, bidi overrides. */
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const JSON_UNSAFE_ALL = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with those characters written as `\uXXXX` escapes: the same JSON, safe to print. */
export function escapeJsonForTerminal(json: string): string {
  return JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE_ALL, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) : json;
}
