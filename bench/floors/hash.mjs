// Floor for `chatid hash --batch`: HMAC-SHA256 hex per id, straight on node:crypto.
import { createHmac, createSecretKey } from 'node:crypto';
import { eachLine } from './lines.mjs';

const key = createSecretKey(Buffer.from(process.env.CHATID_SECRET, 'utf8'));
eachLine(process.argv[2], (id) => createHmac('sha256', key).update(id).digest('hex'));
