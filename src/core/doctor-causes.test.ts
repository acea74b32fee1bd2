// The hash doctor, table-driven (cli.md §7): every cause code in HASH_CAUSE_CODES is proven
// by at least one case, and the cases at the end must yield no cause at all. Expected values
// are computed here with node:crypto directly, not with the code under test.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diagnoseHash, type DiagnoseHashInput, HASH_CAUSE_CODES } from './doctor.js';
import type { SecretCandidateInput } from './secret-candidates.js';
import { parseSecretKey } from './secret-key.js';

const SECRET = 'sk_test_doctor_0123456789abcdef0123';
const ID = 'user_123';
const hmac = (key: string | Buffer, msg: string | Buffer, alg = 'sha256') => createHmac(alg, key).update(msg).digest();
const hex = (b: Buffer) => b.toString('hex');
const right = hmac(SECRET, ID);

interface Case {
  name: string;
  expected: string;
  codes: string[];
  userId?: string;
  email?: string;
  secrets?: Partial<SecretCandidateInput>;
  /** Text the message of one cause must contain (e.g. the profile name). */
  mentions?: string;
}

const CASES: Case[] = [
  { name: 'secret read with a trailing newline', expected: hex(hmac(`${SECRET}\n`, ID)), codes: ['SECRET_WHITESPACE'] },
  { name: 'secret with CRLF from a Windows .env', expected: hex(hmac(`${SECRET}\r\n`, ID)), codes: ['SECRET_WHITESPACE'] },
  { name: 'configured secret has a trailing space the server trimmed', secrets: { secret: `${SECRET} ` }, expected: hex(hmac(SECRET, ID)), codes: ['SECRET_WHITESPACE'] },
  { name: 'secret kept its double quotes', expected: hex(hmac(`"${SECRET}"`, ID)), codes: ['SECRET_QUOTED'] },
  { name: 'secret base64-decoded before use', secrets: { secret: 'c2VjcmV0LWtleS1mb3ItdGhlLXdpZGdldA==' }, expected: hex(hmac(Buffer.from('c2VjcmV0LWtleS1mb3ItdGhlLXdpZGdldA==', 'base64'), ID)), codes: ['SECRET_ENCODING'] },
  { name: 'secret hex-encoded before use', expected: hex(hmac(Buffer.from(SECRET).toString('hex'), ID)), codes: ['SECRET_ENCODING'] },
  { name: 'server still on the previous secret', secrets: { previousSecret: 'sk_old_secret_before_rotation_0000' }, expected: hex(hmac('sk_old_secret_before_rotation_0000', ID)), codes: ['SIGNED_WITH_PREVIOUS_SECRET'] },
  {
    name: "another profile's secret (names the profile)",
    secrets: { otherProfiles: [{ name: 'prod', secret: 'sk_prod_0000' }, { name: 'staging', secret: 'sk_staging_secret_value_1111' }] },
    expected: hex(hmac('sk_staging_secret_value_1111', ID)),
    codes: ['SIGNED_WITH_OTHER_PROFILE_SECRET'],
    mentions: 'staging',
  },
  { name: 'API key used as the identity secret', secrets: { apiKey: 'oc_live_abcdefabcdefabcdef' }, expected: hex(hmac('oc_live_abcdefabcdefabcdef', ID)), codes: ['API_KEY_AS_SECRET'] },
  { name: 'id with a trailing \\r from a CRLF CSV', expected: hex(hmac(SECRET, `${ID}\r`)), codes: ['USER_ID_WHITESPACE'] },
  { name: 'id given with spaces the server trimmed', userId: `  ${ID} `, expected: hex(hmac(SECRET, ID)), codes: ['USER_ID_WHITESPACE'] },
  { name: 'id lowercased on one side', userId: 'User_ABC', expected: hex(hmac(SECRET, 'user_abc')), codes: ['USER_ID_CASE'] },
  { name: 'id uppercased on one side', userId: 'user_abc', expected: hex(hmac(SECRET, 'USER_ABC')), codes: ['USER_ID_CASE'] },
  { name: 'id JSON-encoded with its quotes', expected: hex(hmac(SECRET, `"${ID}"`)), codes: ['USER_ID_JSON_ENCODED'] },
  { name: 'numeric id serialized as a float', userId: '123', expected: hex(hmac(SECRET, '123.0')), codes: ['USER_ID_NUMBER_FORMAT'] },
  { name: 'id above 2^53 lost digits in a JS number', userId: '12345678901234567891', expected: hex(hmac(SECRET, String(Number('12345678901234567891')))), codes: ['USER_ID_NUMBER_FORMAT'] },
  { name: 'id with a BOM from the first CSV cell', expected: hex(hmac(SECRET, `\uFEFF${ID}`)), codes: ['USER_ID_BOM'] },
  { name: 'Mongo ObjectId serialized as {"$oid":…}', userId: '507f1f77bcf86cd799439011', expected: hex(hmac(SECRET, '{"$oid":"507f1f77bcf86cd799439011"}')), codes: ['USER_ID_OBJECT_ID'] },
  { name: 'email hashed instead of the id', email: 'Ada@Example.com', expected: hex(hmac(SECRET, 'Ada@Example.com')), codes: ['HASHED_EMAIL'] },
  { name: 'normalized email hashed instead of the id', email: ' Ada@Example.com', expected: hex(hmac(SECRET, 'ada@example.com')), codes: ['HASHED_EMAIL'] },
  { name: "digest('base64')", expected: right.toString('base64'), codes: ['DIGEST_BASE64'] },
  { name: 'base64url digest', expected: right.toString('base64url'), codes: ['DIGEST_BASE64'] },
  { name: 'uppercase hex (.NET Convert.ToHexString)', expected: hex(right).toUpperCase(), codes: ['DIGEST_UPPERCASE'] },
  { name: 'dashes (.NET BitConverter.ToString)', expected: hex(right).toUpperCase().replace(/(..)(?!$)/g, '$1-'), codes: ['DIGEST_DASHED'] },
  { name: 'truncated to 32 hex chars (VARCHAR(32))', expected: hex(right).slice(0, 32), codes: ['DIGEST_TRUNCATED'] },
  { name: 'HMAC-SHA1', expected: hex(hmac(SECRET, ID, 'sha1')), codes: ['ALGORITHM_SHA1'] },
  { name: 'HMAC-SHA512', expected: hex(hmac(SECRET, ID, 'sha512')), codes: ['ALGORITHM_SHA512'] },
  { name: 'plain SHA-256 of the id', expected: createHash('sha256').update(ID).digest('hex'), codes: ['PLAIN_SHA256'] },
  { name: 'plain SHA-256 of secret + id', expected: createHash('sha256').update(SECRET + ID).digest('hex'), codes: ['PLAIN_SHA256'] },
  { name: 'key and message swapped', expected: hex(hmac(ID, SECRET)), codes: ['KEY_MESSAGE_SWAPPED'] },
  // Two mistakes at once: both are reported, nothing else.
  { name: 'secret newline AND uppercase digest', expected: hex(hmac(`${SECRET}\n`, ID)).toUpperCase(), codes: ['SECRET_WHITESPACE', 'DIGEST_UPPERCASE'] },
  { name: 'previous secret AND base64 digest', secrets: { previousSecret: 'sk_old_2' }, expected: hmac('sk_old_2', ID).toString('base64'), codes: ['SIGNED_WITH_PREVIOUS_SECRET', 'DIGEST_BASE64'] },
];

/** Mismatches nothing known explains: the doctor must say nothing rather than guess. */
const NO_CAUSE: Case[] = [
  { name: 'a different, unknown secret', expected: hex(hmac('some_other_secret_nobody_configured', ID)), codes: [] },
  { name: 'the hash of another user', expected: hex(hmac(SECRET, 'user_124')), codes: [] },
  { name: 'random 64 hex characters', expected: 'ab'.repeat(32), codes: [] },
  { name: 'not a hash at all', expected: 'hello world', codes: [] },
  { name: 'a prefix too short to prove truncation', expected: hex(right).slice(0, 6), codes: [] },
  { name: 'a truncated hash of another user', expected: hex(hmac(SECRET, 'user_999')).slice(0, 32), codes: [] },
  { name: 'the email given but another email was hashed', email: 'ada@example.com', expected: hex(hmac(SECRET, 'bob@example.com')), codes: [] },
  { name: 'the right hash (no mismatch to explain)', expected: hex(right), codes: [] },
  { name: 'empty', expected: '', codes: [] },
];

function run(c: Case) {
  const secrets: SecretCandidateInput = { secret: SECRET, ...c.secrets };
  const input: DiagnoseHashInput = { key: parseSecretKey(secrets.secret).bytes, secrets, userId: c.userId ?? ID, expected: c.expected };
  if (c.email !== undefined) input.email = c.email;
  return diagnoseHash(input);
}

describe('hash doctor: every cause, proven by recomputation', () => {
  for (const c of CASES) {
    it(`${c.name} → ${c.codes.join(' + ')}`, () => {
      const causes = run(c);
      expect([...new Set(causes.map((x) => x.code))].sort()).toEqual([...c.codes].sort());
      for (const x of causes) {
        expect(x.message.length).toBeGreaterThan(10);
        expect(x.fix.length).toBeGreaterThan(10);
      }
      if (c.mentions) expect(causes.some((x) => x.message.includes(c.mentions!) || x.fix.includes(c.mentions!))).toBe(true);
    });
  }

  it('the table covers every cause code the doctor can report', () => {
    const covered = new Set(CASES.flatMap((c) => c.codes));
    expect(HASH_CAUSE_CODES.filter((code) => !covered.has(code))).toEqual([]);
  });
});

describe('hash doctor: no known cause', () => {
  for (const c of NO_CAUSE) {
    it(c.name, () => {
      expect(run(c)).toEqual([]);
    });
  }
});
