// Shared by the floors: read a file of ids in 1 MiB chunks (constant memory, like chatid's
// streaming) and hand each non-empty line to `fn`; write results to stdout in 64 KiB slabs.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export function eachLine(path, fn) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let rest = '';
  let out = '';
  let n;
  while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) {
    const text = rest + buf.toString('utf8', 0, n);
    const lines = text.split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (line === '') continue;
      out += fn(line.endsWith('\r') ? line.slice(0, -1) : line) + '\n';
      if (out.length > 65536) {
        writeSync(1, out);
        out = '';
      }
    }
  }
  if (rest !== '') out += fn(rest) + '\n';
  if (out) writeSync(1, out);
  closeSync(fd);
}
