// Floor for `chatid encrypt --batch`: TeamWeb AES-256-GCM per id on node:crypto,
// base64(nonce(12) ‖ ciphertext ‖ tag(16)) of {"id":…}, a fresh random nonce per row.
import { createCipheriv, randomFillSync } from 'node:crypto';
import { eachLine } from './lines.mjs';

const key = Buffer.from(process.env.CHATID_SECRET, 'base64');
const pool = Buffer.allocUnsafe(12 * 4096);
let at = pool.length;
eachLine(process.argv[2], (id) => {
  if (at === pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  const nonce = pool.subarray(at, (at += 12));
  const c = createCipheriv('aes-256-gcm', key, nonce);
  const body = c.update(JSON.stringify({ id }), 'utf8');
  const fin = c.final();
  return Buffer.concat([nonce, body, fin, c.getAuthTag()]).toString('base64');
});
