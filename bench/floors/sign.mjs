// Floor for `chatid token sign --batch`: a Chatbase HS256 JWT per id, built by hand on node:crypto
// (header constant, payload {user_id, iat, exp}, HMAC-SHA256, base64url).
import { createHmac, createSecretKey } from 'node:crypto';
import { eachLine } from './lines.mjs';

const key = createSecretKey(Buffer.from(process.env.CHATID_SECRET, 'utf8'));
const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const iat = Math.floor(Date.now() / 1000);
const exp = iat + 3600;
eachLine(process.argv[2], (id) => {
  const input = `${head}.${Buffer.from(JSON.stringify({ user_id: id, iat, exp })).toString('base64url')}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
});
