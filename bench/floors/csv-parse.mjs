// Floor for `chatid contacts sync`: stream the same CSV through csv-parse and count records,
// nothing else (what the client cannot go below). Prints the count on stdout.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';

let n = 0;
createReadStream(process.argv[2])
  .pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }))
  .on('data', () => {
    n++;
  })
  .on('end', () => process.stdout.write(`${n - 1}\n`))
  .on('error', (err) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  });
