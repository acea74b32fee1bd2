// TeamWeb identity tokens broken in every way (issue 6): base64(nonce(12) ‖ ciphertext ‖
// tag(16)) under AES-256-GCM with a base64 32-byte key (../shared/spec/vendors.md §4).
import { createCipheriv } from 'node:crypto';

export const TW_KEY = Buffer.from('teamweb-corpus-key-32-bytes-long').toString('base64');
export const TW_OTHER_KEY = Buffer.from('teamweb-corpus-OTHER-key-32-byte').toString('base64');

export function seal(keyB64: string, plaintext: Buffer | string, nonce = Buffer.alloc(12, 9)): Buffer {
  const c = createCipheriv('aes-256-gcm', Buffer.from(keyB64, 'base64'), nonce);
  const body = Buffer.concat([c.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

const flip = (b: Buffer, i: number): Buffer => {
  const c = Buffer.from(b);
  c[(i + c.length) % c.length]! ^= 0x01;
  return c;
};

const GOOD = seal(TW_KEY, '{"id":"u1","email":"u1@example.com"}');
export const TW_GOOD = GOOD.toString('base64');

export interface TeamwebCase {
  name: string;
  token: string;
  /** Failures of one kind share one error code; the four kinds have four codes (cli.md §5). */
  kind: 'base64' | 'length' | 'tag' | 'payload';
}

/** Every one of these must be refused by `decrypt` (exit 2 or 3, its own code, no plaintext). */
export const TW_BAD: TeamwebCase[] = [
  { name: 'not base64', kind: 'base64', token: '***not-base64***' },
  { name: 'base64url alphabet', kind: 'base64', token: TW_GOOD.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') + (/[+/]/.test(TW_GOOD) ? '' : '-_') },
  { name: 'padding removed', kind: 'base64', token: seal(TW_KEY, '{"id":"u12"}').toString('base64').replace(/=+$/, '') },
  { name: 'space inside', kind: 'base64', token: `${TW_GOOD.slice(0, 10)} ${TW_GOOD.slice(10)}` },
  { name: 'non-canonical last character', kind: 'base64', token: (() => { const t = seal(TW_KEY, '{"id":"u123"}').toString('base64'); const i = t.search(/=/) - 1; const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'; return `${t.slice(0, i)}${a[a.indexOf(t[i]!) ^ 1]}${t.slice(i + 1)}`; })() },
  { name: '20 bytes (shorter than nonce + tag)', kind: 'length', token: Buffer.alloc(20, 1).toString('base64') },
  { name: 'empty plaintext (exactly 28 bytes)', kind: 'payload', token: seal(TW_KEY, '').toString('base64') },
  { name: 'tag altered', kind: 'tag', token: flip(GOOD, -1).toString('base64') },
  { name: 'ciphertext altered', kind: 'tag', token: flip(GOOD, 14).toString('base64') },
  { name: 'nonce altered', kind: 'tag', token: flip(GOOD, 0).toString('base64') },
  { name: 'sealed with another key', kind: 'tag', token: seal(TW_OTHER_KEY, '{"id":"u1"}').toString('base64') },
  { name: 'plaintext not JSON', kind: 'payload', token: seal(TW_KEY, 'id=u1').toString('base64') },
  { name: 'plaintext Latin-1 bytes', kind: 'payload', token: seal(TW_KEY, Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d])).toString('base64') },
  { name: 'Bearer prefix', kind: 'base64', token: `Bearer ${TW_GOOD}` },
  { name: 'double quotes around', kind: 'base64', token: `"${TW_GOOD}"` },
];
