/**
 * Response bodies as UTF-8 bytes, for the server's send(). A contacts write answers with up to
 * 1000 stored contacts (~250 KB of JSON): as one string, that is an allocation V8 makes outside
 * its young generation and the system hands out fresh on every request, which cost more than
 * producing the JSON. So a top-level array is serialised in groups of elements, each group
 * written straight into a reused buffer, and no string of the whole body ever exists. The bytes
 * are exactly those of `JSON.stringify(value)` (json-body.test.ts checks it); values this path
 * cannot reproduce exactly (toJSON methods, exotic objects) take `JSON.stringify` as they are.
 */

/** Arrays longer than this are serialised in groups of this many elements. */
export const GROUP = 64;

/** A growable byte buffer. */
export class ByteSink {
  buf: Buffer;
  length = 0;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  put(text: string): void {
    // text.length * 3 bounds its UTF-8 length; measure exactly only when that may not fit.
    if (this.length + text.length * 3 > this.buf.length) {
      const need = this.length + Buffer.byteLength(text, 'utf8');
      if (need > this.buf.length) {
        const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
        this.buf.copy(next, 0, 0, this.length);
        this.buf = next;
      }
    }
    this.length += this.buf.write(text, this.length, 'utf8');
  }
}

const hasToJson = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && !hasToJson(v);
}

/** An array this module may serialise in groups: a plain Array whose elements have no toJSON. */
function isGroupable(v: unknown): v is unknown[] {
  if (!Array.isArray(v) || v.length <= GROUP || Object.getPrototypeOf(v) !== Array.prototype) return false;
  for (const e of v) if (hasToJson(e)) return false;
  return true;
}

/** Whether `value` has an array worth serialising in groups (itself, or a property of it). */
export function hasLargeArray(value: unknown): boolean {
  if (isGroupable(value)) return true;
  if (!isPlainObject(value)) return false;
  for (const k of Object.keys(value)) if (isGroupable(value[k])) return true;
  return false;
}

function putArray(a: unknown[], out: ByteSink): void {
  for (let i = 0; i < a.length; i += GROUP) {
    const s = JSON.stringify(a.slice(i, i + GROUP));
    out.put(i === 0 ? '[' : ',');
    out.put(s.slice(1, -1));
  }
  out.put(']');
}

/** Write `JSON.stringify(value)` into `out` (value must not be undefined, a function or a symbol). */
export function putJson(value: unknown, out: ByteSink): void {
  if (isGroupable(value)) {
    putArray(value, out);
    return;
  }
  if (!isPlainObject(value) || Object.values(value).some(hasToJson)) {
    out.put(JSON.stringify(value));
    return;
  }
  out.put('{');
  let first = true;
  for (const k of Object.keys(value)) {
    const v = value[k];
    const key = `${first ? '' : ','}${JSON.stringify(k)}:`;
    if (isGroupable(v)) {
      out.put(key);
      putArray(v, out);
    } else {
      const text = JSON.stringify(v) as string | undefined;
      if (text === undefined) continue; // undefined, a function or a symbol: the key is left out
      out.put(key + text);
    }
    first = false;
  }
  out.put('}');
}
