// Table-driven doctor test: every cause code of cli.md §6 with at least one case, and
// cases that must yield no cause. Each token is built with the mistake the row names.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diagnoseJwt } from './jwt-causes.js';
import type { JwtProvider } from './jwt-claims.js';
import { signHs256Sync } from './jwt-sign-sync.js';
import { verifyJwt } from './jwt-verify.js';
import type { SecretCandidateInput } from './secret-candidates.js';

const NOW = 1767225600;
const SECRET = 'cb_secret_4f9a1c2e7b3d8a6f0e5c9b2a';
const PREVIOUS = 'cb_secret_old_000000000000000000000';
const STAGING = 'cb_secret_staging_1111111111111111';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ user_id: 'user_123', iat: NOW - 10, exp: NOW + 3600, ...extra });
const sign = (key: string | Uint8Array, payload = claims()): string => signHs256Sync(typeof key === 'string' ? enc(key) : key, payload);

interface Row {
  name: string;
  token: string;
  /** The configured secret (default SECRET). */
  secret?: string;
  /** Accept the previous secret as a key (grace period). */
  grace?: boolean;
  provider?: JwtProvider;
  secrets?: Omit<SecretCandidateInput, 'secret'>;
  causes: string[];
  /** Substring the first cause's message must hold. */
  says?: string;
  /** The moment was chosen with --at (not this machine's clock). */
  momentChosen?: boolean;
  valid?: boolean;
}

const B64_SECRET = Buffer.from('thirty-two bytes of binary key!!').toString('base64');
const HEX_SECRET = Buffer.from('thirty-two bytes of binary key!!').toString('hex');

const rows: Row[] = [
  { name: 'Bearer prefix on a good token', token: `Bearer ${sign(SECRET)}`, causes: ['BEARER_PREFIX'], says: 'Without it the token verifies' },
  { name: 'bearer: prefix, lower case', token: `bearer: ${sign(SECRET)}`, causes: ['BEARER_PREFIX'] },
  { name: 'double quotes from JSON', token: `"${sign(SECRET)}"`, causes: ['QUOTED_TOKEN'], says: 'verifies' },
  { name: 'single quotes from a .env file', token: `'${sign(SECRET)}'`, causes: ['QUOTED_TOKEN'] },
  { name: 'quoted Bearer token', token: `"Bearer ${sign(SECRET)}"`, causes: ['QUOTED_TOKEN', 'BEARER_PREFIX'] },
  { name: 'the whole Authorization header line', token: `Authorization: Bearer ${sign(SECRET)}`, causes: ['BEARER_PREFIX'], says: '"Authorization: Bearer ", the HTTP header it travels in' },
  { name: 'Authorization header without a space, lower case', token: `authorization:bearer ${sign(SECRET)}`, causes: ['BEARER_PREFIX'], says: 'Without it the token verifies' },
  { name: 'Authorization header without Bearer', token: `Authorization: ${sign(SECRET)}`, causes: ['BEARER_PREFIX'], says: '"Authorization: "' },
  { name: 'quoted Authorization header', token: `'Authorization: Bearer ${sign(SECRET)}'`, causes: ['QUOTED_TOKEN', 'BEARER_PREFIX'] },
  { name: 'Bearer prefix and a wrong secret: both found', token: `Bearer ${sign(`${SECRET}\n`)}`, causes: ['BEARER_PREFIX', 'SECRET_WHITESPACE'], says: 'still fails: BAD_SIGNATURE' },
  { name: 'previous secret after the grace period', token: sign(PREVIOUS), secrets: { previousSecret: PREVIOUS, previousSecretGraceEnded: '2025-12-31T12:00:00.000Z' }, causes: ['SIGNED_WITH_PREVIOUS_SECRET'], says: 'whose grace period ended at 2025-12-31T12:00:00.000Z, so it is no longer accepted: the signer still uses the secret from before the rotation' },
  { name: 'previous secret not accepted with a secret from a flag or the environment', token: sign(PREVIOUS), secrets: { previousSecret: PREVIOUS }, causes: ['SIGNED_WITH_PREVIOUS_SECRET'], says: 'came from a flag or CHATID_SECRET' },
  { name: 'previous secret during the grace period: valid, still explained', token: sign(PREVIOUS), grace: true, secrets: { previousSecret: PREVIOUS }, causes: ['SIGNED_WITH_PREVIOUS_SECRET'], valid: true },
  { name: "another profile's secret", token: sign(STAGING), secrets: { otherProfiles: [{ name: 'prod' }, { name: 'staging', secret: STAGING }] }, causes: ['SIGNED_WITH_OTHER_PROFILE_SECRET'], says: '"staging"' },
  { name: "another profile's previous secret", token: sign(PREVIOUS), secrets: { otherProfiles: [{ name: 'staging', secret: STAGING, previousSecret: PREVIOUS }] }, causes: ['SIGNED_WITH_OTHER_PROFILE_SECRET'], says: 'previous secret of profile "staging"' },
  { name: 'signed with the base64-decoded secret', token: sign(Buffer.from(B64_SECRET, 'base64')), secret: B64_SECRET, causes: ['SECRET_ENCODING'], says: 'base64-decoded' },
  { name: 'signed with the hex-decoded secret', token: sign(Buffer.from(HEX_SECRET, 'hex')), secret: HEX_SECRET, causes: ['SECRET_ENCODING'], says: 'hex-decoded' },
  { name: 'base64: secret configured, signer used the text', token: sign(B64_SECRET), secret: `base64:${B64_SECRET}`, causes: ['SECRET_ENCODING'], says: 'not decoded' },
  { name: 'signer base64-encoded the secret', token: sign(Buffer.from(SECRET).toString('base64')), causes: ['SECRET_ENCODING'], says: 'base64 encoding' },
  { name: 'secret with a trailing newline at the signer', token: sign(`${SECRET}\n`), causes: ['SECRET_WHITESPACE'], says: 'trailing "\\n": the whitespace is in the signer\'s copy' },
  { name: 'secret with a trailing space at the signer', token: sign(`${SECRET} `), causes: ['SECRET_WHITESPACE'] },
  { name: 'configured secret has the newline, signer trimmed', token: sign(SECRET), secret: `${SECRET}\r\n`, causes: ['SECRET_WHITESPACE'], says: 'the whitespace is in the secret chatid was given' },
  { name: 'exp in milliseconds (generic: no error, explained)', token: sign(SECRET, { sub: 'u1', exp: (NOW + 3600) * 1000 }), provider: 'generic', causes: ['EXP_IN_MILLISECONDS'], says: '2026-01-01T01:00:00.000Z', valid: true },
  { name: 'iat in milliseconds makes IAT_IN_FUTURE', token: sign(SECRET, claims({ iat: NOW * 1000 })), causes: ['EXP_IN_MILLISECONDS'], says: 'iat is' },
  { name: 'iat 2 minutes ahead (fast signer clock)', token: sign(SECRET, claims({ iat: NOW + 120 })), causes: ['CLOCK_SKEW'], says: "The signer's clock is ahead of this machine's by at least 2m: the token says it was issued at 2026-01-01T00:02:00.000Z" },
  { name: 'nbf and iat 3 minutes ahead: one skew explains both', token: sign(SECRET, claims({ iat: NOW + 180, nbf: NOW + 180 })), causes: ['CLOCK_SKEW'], says: 'also explains the nbf error' },
  { name: 'userId sent to Chatbase', token: sign(SECRET, { userId: 'user_123', exp: NOW + 60 }), causes: ['WRONG_PROVIDER_CLAIM'], says: '"userId" (the Replyful claim)' },
  { name: 'user_id sent to Replyful', token: sign(SECRET, { user_id: 'user_123', iat: NOW, exp: NOW + 60 }), provider: 'replyful', causes: ['WRONG_PROVIDER_CLAIM'], says: 'reads "userId"' },
  { name: 'external_id sent to a generic verifier', token: sign(SECRET, { external_id: 'user_123', exp: NOW + 60 }), provider: 'generic', causes: ['WRONG_PROVIDER_CLAIM'] },

  // No cause: an honest empty list.
  { name: 'a valid token', token: sign(SECRET), causes: [], valid: true },
  { name: 'an unrelated secret', token: sign('some_other_secret_nobody_configured'), secrets: { previousSecret: PREVIOUS, otherProfiles: [{ name: 'staging', secret: STAGING }] }, causes: [] },
  { name: 'expired two days ago (not skew)', token: sign(SECRET, claims({ iat: NOW - 2 * 86400 - 3600, exp: NOW - 2 * 86400 })), causes: [] },
  { name: 'iat 20 minutes ahead (beyond the skew window)', token: sign(SECRET, claims({ iat: NOW + 1200 })), causes: [] },
  { name: 'expired 30 s past the leeway: tokens expire, no clock is proven wrong', token: sign(SECRET, claims({ iat: NOW - 3690, exp: NOW - 90 })), causes: [] },
  { name: 'expired 3 minutes ago (no proof of a slow signer clock)', token: sign(SECRET, claims({ iat: NOW - 3780, exp: NOW - 180 })), causes: [] },
  { name: 'nbf 5 minutes ahead, iat now: the nbf may be meant', token: sign(SECRET, claims({ nbf: NOW + 300 })), causes: [] },
  { name: 'iat ahead of a moment chosen with --at: no clock is compared', token: sign(SECRET, claims({ iat: NOW + 120 })), momentChosen: true, causes: [] },
  { name: 'exp huge but not milliseconds of now', token: sign(SECRET, { sub: 'u', exp: 1e13 }), provider: 'generic', causes: [], valid: true },
  { name: 'garbage', token: 'hello world', causes: [] },
  { name: 'Bearer and garbage', token: 'Bearer hello.world', causes: [] },
  { name: 'no id at all, nothing id-like', token: sign(SECRET, { email: 'a@b.c', exp: NOW + 60 }), causes: [] },
  { name: 'numeric user_id is an error, not a cause', token: sign(SECRET, { user_id: 123, exp: NOW + 60 }), causes: [] },
  { name: 'HS512 with the right secret: ALG_NOT_ALLOWED, no secret cause', token: hs512(SECRET), secrets: { previousSecret: PREVIOUS }, causes: [] },
];

function hs512(secret: string): string {
  const input = `${Buffer.from('{"alg":"HS512"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}`;
  return `${input}.${createHmac('sha512', secret).update(input).digest('base64url')}`;
}

describe('diagnoseJwt', () => {
  for (const row of rows) {
    it(`${row.name} → ${row.causes.join(', ') || 'no cause'}`, () => {
      const secret = row.secret ?? SECRET;
      const keyOf = (s: string): Uint8Array => (s.startsWith('base64:') ? new Uint8Array(Buffer.from(s.slice(7), 'base64')) : enc(s));
      const keys: Array<{ label: 'current' | 'previous'; bytes: Uint8Array }> = [{ label: 'current', bytes: keyOf(secret) }];
      if (row.grace) keys.push({ label: 'previous', bytes: enc(PREVIOUS) });
      const verify = { keys, provider: row.provider ?? 'chatbase', now: NOW, leewaySeconds: 60 };
      const result = verifyJwt({ ...verify, token: row.token });
      const causes = diagnoseJwt({ verify, token: row.token, result, secrets: { secret, ...row.secrets }, ...(row.momentChosen ? { momentChosen: true } : {}) });
      expect(causes.map((c) => c.code)).toEqual(row.causes);
      expect(result.valid).toBe(row.valid ?? false);
      if (row.says) expect(causes[0]!.message).toContain(row.says);
      for (const c of causes) expect(c.message).not.toContain(secret.trim());
    });
  }

  it('covers every cause code of cli.md §6', () => {
    const covered = new Set(rows.flatMap((r) => r.causes));
    for (const code of ['SIGNED_WITH_PREVIOUS_SECRET', 'SIGNED_WITH_OTHER_PROFILE_SECRET', 'SECRET_ENCODING', 'SECRET_WHITESPACE', 'EXP_IN_MILLISECONDS', 'CLOCK_SKEW', 'BEARER_PREFIX', 'QUOTED_TOKEN', 'WRONG_PROVIDER_CLAIM']) {
      expect(covered.has(code), code).toBe(true);
    }
  });
});
