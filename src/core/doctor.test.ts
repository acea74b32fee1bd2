// The hash doctor, table-driven (cli.md §7): each row builds the value a user's backend
// produced with one known mistake, computed here with node:crypto directly (not through
// the code under test), and states exactly which cause codes must come back. Rows with no
// codes must yield an empty list: an honest "no known cause".
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diagnoseHash, HASH_CAUSE_CODES, type DiagnoseHashInput } from './doctor.js';
import { parseSecretKey } from './secret-key.js';

const SECRET = 'sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const ID = 'user_123';
const hmac = (key: string | Buffer, msg: string | Buffer, alg = 'sha256') => createHmac(alg, key).update(msg).digest();
const hex = (b: Buffer) => b.toString('hex');
const good = hex(hmac(SECRET, ID));

interface Row {
  name: string;
  expected: string;
  codes: string[];
  secret?: string;
  userId?: string;
  email?: string;
  previousSecret?: string;
  apiKey?: string;
  otherProfiles?: Array<{ name: string; secret?: string }>;
  /** A substring the (first) message must contain. */
  mentions?: string;
  /** A substring the fixes must contain: which side holds which form. */
  fixMentions?: string;
}

const B64_SECRET = Buffer.from('binary-key-bytes-\u0001\u0002').toString('base64');
const OID = '507f1f77bcf86cd799439011';

const ROWS: Row[] = [
  // Secrets
  { name: 'secret with a trailing newline', expected: hex(hmac(`${SECRET}\n`, ID)), codes: ['SECRET_WHITESPACE'], mentions: '\\n', fixMentions: "in your server's copy" },
  { name: 'secret with CRLF', expected: hex(hmac(`${SECRET}\r\n`, ID)), codes: ['SECRET_WHITESPACE'] },
  { name: 'configured secret has a stray space, server trimmed it', secret: ` ${SECRET}`, expected: good, codes: ['SECRET_WHITESPACE'], fixMentions: 'in the secret chatid was given' },
  { name: 'configured secret ends in a newline, server trimmed it', secret: `${SECRET}\n`, expected: good, codes: ['SECRET_WHITESPACE'], fixMentions: "Remove it from chatid's copy" },
  { name: 'secret wrapped in quotes (.env loader)', expected: hex(hmac(`"${SECRET}"`, ID)), codes: ['SECRET_QUOTED'], fixMentions: "in your server's copy" },
  { name: 'configured secret has quotes, server has none', secret: `"${SECRET}"`, expected: good, codes: ['SECRET_QUOTED'], fixMentions: 'in the secret chatid was given' },
  { name: 'base64 secret decoded by the server', secret: B64_SECRET, expected: hex(hmac(Buffer.from(B64_SECRET, 'base64'), ID)), codes: ['SECRET_ENCODING'], mentions: 'base64-decoded', fixMentions: 'Your server base64-decodes' },
  { name: 'hex secret decoded by the server', secret: 'a1b2c3d4e5f60718', expected: hex(hmac(Buffer.from('a1b2c3d4e5f60718', 'hex'), ID)), codes: ['SECRET_ENCODING'], fixMentions: 'Your server hex-decodes' },
  { name: 'hex: secret used as its text by the server', secret: 'hex:a1b2c3d4e5f60718', expected: hex(hmac('a1b2c3d4e5f60718', ID)), codes: ['SECRET_ENCODING'], fixMentions: 'chatid was given the secret as "hex:…"' },
  { name: 'base64: given to chatid, server uses the text', secret: `base64:${B64_SECRET}`, expected: hex(hmac(B64_SECRET, ID)), codes: ['SECRET_ENCODING'], fixMentions: 'without the "base64:" prefix' },
  { name: 'server kept the base64: prefix in its copy', secret: `base64:${B64_SECRET}`, expected: hex(hmac(`base64:${B64_SECRET}`, ID)), codes: ['SECRET_ENCODING'], fixMentions: "Your server's copy still starts with \"base64:\"" },
  { name: 'hex: secret, server used the base64 text of the same bytes', secret: 'hex:a1b2c3d4e5f60718', expected: hex(hmac(Buffer.from('a1b2c3d4e5f60718', 'hex').toString('base64'), ID)), codes: ['SECRET_ENCODING'], fixMentions: 'one form on both sides' },
  { name: 'server base64-encoded the secret', expected: hex(hmac(Buffer.from(SECRET).toString('base64'), ID)), codes: ['SECRET_ENCODING'], fixMentions: 'Your server base64-encodes' },
  { name: 'previous secret after rotation', previousSecret: 'sk_old_secret_value_0000000000000', expected: hex(hmac('sk_old_secret_value_0000000000000', ID)), codes: ['SIGNED_WITH_PREVIOUS_SECRET'] },
  { name: "another profile's secret", otherProfiles: [{ name: 'prod' }, { name: 'staging', secret: 'sk_staging_secret' }], expected: hex(hmac('sk_staging_secret', ID)), codes: ['SIGNED_WITH_OTHER_PROFILE_SECRET'], mentions: 'staging' },
  { name: 'API key used as the secret', apiKey: 'oc_live_abcdef', expected: hex(hmac('oc_live_abcdef', ID)), codes: ['API_KEY_AS_SECRET'] },
  // User ids
  { name: 'id with a trailing newline', expected: hex(hmac(SECRET, `${ID}\n`)), codes: ['USER_ID_WHITESPACE'] },
  { name: 'id with CR from a CRLF CSV', expected: hex(hmac(SECRET, `${ID}\r`)), codes: ['USER_ID_WHITESPACE'] },
  { name: 'id given with spaces, server trimmed', userId: ` ${ID} `, expected: good, codes: ['USER_ID_WHITESPACE'] },
  { name: 'id lowercased by the server', userId: 'User_ABC', expected: hex(hmac(SECRET, 'user_abc')), codes: ['USER_ID_CASE'] },
  { name: 'id uppercased by the server', expected: hex(hmac(SECRET, 'USER_123')), codes: ['USER_ID_CASE'] },
  { name: 'id JSON-encoded (quotes included)', expected: hex(hmac(SECRET, '"user_123"')), codes: ['USER_ID_JSON_ENCODED'] },
  { name: 'id given to chatid with JSON quotes', userId: '"user_123"', expected: good, codes: ['USER_ID_JSON_ENCODED'] },
  { name: 'numeric id hashed as a Python float', userId: '123', expected: hex(hmac(SECRET, '123.0')), codes: ['USER_ID_NUMBER_FORMAT'] },
  { name: 'numeric id past 2^53 through a JS number', userId: '12345678901234567891', expected: hex(hmac(SECRET, String(Number('12345678901234567891')))), codes: ['USER_ID_NUMBER_FORMAT'], mentions: '2^53' },
  { name: 'numeric id in scientific notation', userId: '123000000000000000000000', expected: hex(hmac(SECRET, '1.23e+23')), codes: ['USER_ID_NUMBER_FORMAT'] },
  { name: 'id with a BOM (first CSV cell)', expected: hex(hmac(SECRET, `\uFEFF${ID}`)), codes: ['USER_ID_BOM'] },
  { name: 'Mongo ObjectId serialised as {"$oid"}', userId: OID, expected: hex(hmac(SECRET, `{"$oid":"${OID}"}`)), codes: ['USER_ID_OBJECT_ID'] },
  { name: 'Mongo ObjectId in shell form', userId: OID, expected: hex(hmac(SECRET, `ObjectId("${OID}")`)), codes: ['USER_ID_OBJECT_ID'] },
  { name: 'undefined hashed instead of the id', expected: hex(hmac(SECRET, 'undefined')), codes: ['USER_ID_MISSING'] },
  { name: 'empty string hashed', expected: hex(hmac(SECRET, '')), codes: ['USER_ID_MISSING'] },
  { name: 'id given in NFD, server hashed NFC', userId: 'Jos\u0065\u0301', expected: hex(hmac(SECRET, 'Jos\u00e9')), codes: ['USER_ID_UNICODE_FORM'], mentions: 'NFC' },
  { name: 'id given in NFC, server hashed NFD', userId: 'Zo\u00eb M\u00fcller', expected: hex(hmac(SECRET, 'Zoe\u0308 Mu\u0308ller')), codes: ['USER_ID_UNICODE_FORM'], mentions: 'NFD' },
  { name: 'server hashed the Latin-1 bytes of the id', userId: 'Jos\u00e9', expected: hex(hmac(SECRET, Buffer.from('Jos\u00e9', 'latin1'))), codes: ['USER_ID_ENCODING'], mentions: 'Latin-1' },
  { name: 'server hashed the Windows-1252 bytes (curly apostrophe)', userId: 'O\u2019Brien', expected: hex(hmac(SECRET, Buffer.from([0x4f, 0x92, 0x42, 0x72, 0x69, 0x65, 0x6e]))), codes: ['USER_ID_ENCODING'], mentions: 'Windows-1252' },
  { name: 'server read the UTF-8 id as Latin-1 (mojibake)', userId: 'Jos\u00e9', expected: hex(hmac(SECRET, 'Jos\u00c3\u00a9')), codes: ['USER_ID_ENCODING'], mentions: 'mojibake' },
  { name: 'id given to chatid as mojibake', userId: 'Jos\u00c3\u00a9', expected: hex(hmac(SECRET, 'Jos\u00e9')), codes: ['USER_ID_ENCODING'], mentions: 'either the id you gave is mojibake (UTF-8 read as Latin-1; the real id is "José"), or the server hashed Latin-1 bytes' },
  { name: 'email hashed instead of the id', email: 'Ann@Example.com', expected: hex(hmac(SECRET, 'Ann@Example.com')), codes: ['HASHED_EMAIL'] },
  { name: 'normalized email hashed', email: ' Ann@Example.com', expected: hex(hmac(SECRET, 'ann@example.com')), codes: ['HASHED_EMAIL'] },
  // Digest presentation
  { name: 'digest in base64', expected: hmac(SECRET, ID).toString('base64'), codes: ['DIGEST_BASE64'] },
  { name: 'digest in base64url', expected: hmac(SECRET, ID).toString('base64url'), codes: ['DIGEST_BASE64'] },
  { name: 'digest in uppercase hex (.NET Convert.ToHexString)', expected: good.toUpperCase(), codes: ['DIGEST_UPPERCASE'] },
  { name: 'digest with dashes (.NET BitConverter)', expected: good.toUpperCase().match(/../g)!.join('-'), codes: ['DIGEST_DASHED'] },
  { name: 'digest truncated to 40 chars (VARCHAR(40))', expected: good.slice(0, 40), codes: ['DIGEST_TRUNCATED'], mentions: '40' },
  { name: 'digest truncated to 12 chars', expected: good.slice(0, 12), codes: ['DIGEST_TRUNCATED'] },
  { name: 'digest wrapped in double quotes', expected: `"${good}"`, codes: ['DIGEST_QUOTED'], mentions: 'double quotes' },
  { name: 'digest wrapped in single quotes', expected: `'${good}'`, codes: ['DIGEST_QUOTED'], mentions: 'single quotes' },
  { name: 'digest with a sha256= prefix (webhook style)', expected: `sha256=${good}`, codes: ['DIGEST_PREFIXED'], mentions: '"sha256="' },
  { name: 'digest split into groups of 8', expected: good.match(/.{8}/g)!.join(' '), codes: ['DIGEST_SPACED'] },
  { name: 'digest split into groups of 4', expected: good.match(/.{4}/g)!.join(' '), codes: ['DIGEST_SPACED'] },
  { name: 'digest wrapped over two lines', expected: `${good.slice(0, 32)}\n${good.slice(32)}`, codes: ['DIGEST_SPACED'], mentions: 'lines' },
  // Algorithms
  { name: 'HMAC-SHA1', expected: hex(hmac(SECRET, ID, 'sha1')), codes: ['ALGORITHM_SHA1'] },
  { name: 'HMAC-SHA512', expected: hex(hmac(SECRET, ID, 'sha512')), codes: ['ALGORITHM_SHA512'] },
  { name: 'plain SHA-256 of the id', expected: createHash('sha256').update(ID).digest('hex'), codes: ['PLAIN_SHA256'] },
  { name: 'plain SHA-256 of secret + id', expected: createHash('sha256').update(SECRET + ID).digest('hex'), codes: ['PLAIN_SHA256'], mentions: 'secret followed by' },
  { name: 'key and message swapped', expected: hex(hmac(ID, SECRET)), codes: ['KEY_MESSAGE_SWAPPED'] },
  // Two mistakes at once: both are needed, both are reported.
  { name: 'secret newline AND uppercase digest', expected: hex(hmac(`${SECRET}\n`, ID)).toUpperCase(), codes: ['SECRET_WHITESPACE', 'DIGEST_UPPERCASE'] },
  { name: 'JSON id AND base64 digest', expected: hmac(SECRET, '"user_123"').toString('base64'), codes: ['USER_ID_JSON_ENCODED', 'DIGEST_BASE64'] },
  { name: 'previous secret AND SHA-1', previousSecret: 'old-secret', expected: hex(hmac('old-secret', ID, 'sha1')), codes: ['SIGNED_WITH_PREVIOUS_SECRET', 'ALGORITHM_SHA1'] },
  { name: 'quoted AND sha256= prefix', expected: `"sha256=${good}"`, codes: ['DIGEST_QUOTED', 'DIGEST_PREFIXED'] },
  { name: 'spaced AND uppercase', expected: good.toUpperCase().match(/.{8}/g)!.join(' '), codes: ['DIGEST_SPACED', 'DIGEST_UPPERCASE'] },
  { name: 'sha1= prefix AND HMAC-SHA1', expected: `sha1=${hex(hmac(SECRET, ID, 'sha1'))}`, codes: ['DIGEST_PREFIXED', 'ALGORITHM_SHA1'] },
  { name: 'quoted AND secret newline', expected: `"${hex(hmac(`${SECRET}\n`, ID))}"`, codes: ['DIGEST_QUOTED', 'SECRET_WHITESPACE'] },
  // No cause: nothing we can prove.
  { name: 'an unrelated secret', expected: hex(hmac('some-other-secret-nobody-knows', ID)), codes: [] },
  { name: 'a different user id', expected: hex(hmac(SECRET, 'user_124')), codes: [] },
  { name: 'random hex', expected: 'deadbeef'.repeat(8), codes: [] },
  { name: 'an 11-char prefix is too short to claim truncation', expected: good.slice(0, 11), codes: [] },
  { name: 'garbage text', expected: 'not a hash at all', codes: [] },
  { name: 'an over-long value is not searched', expected: good.repeat(10), codes: [] },
  { name: 'email given but not the cause', email: 'ann@example.com', expected: hex(hmac('x', ID)), codes: [] },
  { name: 'quoted value of another hash', expected: `"${hex(hmac('unknown-secret', ID))}"`, codes: [] },
  { name: 'sha256= prefix on another hash', expected: `sha256=${hex(hmac('unknown-secret', ID))}`, codes: [] },
  { name: 'spaced groups of another hash', expected: hex(hmac('unknown-secret', ID)).match(/.{8}/g)!.join(' '), codes: [] },
  { name: 'quotes around a value that is not a hash', expected: '"not a hash"', codes: [] },
  { name: 'NFD id, another secret', userId: 'Jos\u0065\u0301', expected: hex(hmac('unknown-secret', 'Jos\u00e9')), codes: [] },
  { name: 'accented id, another id hashed in Latin-1', userId: 'Jos\u00e9', expected: hex(hmac(SECRET, Buffer.from('Jose\u00e9', 'latin1'))), codes: [] },
  { name: 'accented id, correct UTF-8 of another id', userId: 'Jos\u00e9', expected: hex(hmac(SECRET, 'Jose')), codes: [] },
];

function run(r: Row) {
  const secret = r.secret ?? SECRET;
  const input: DiagnoseHashInput = {
    key: parseSecretKey(secret).bytes,
    userId: r.userId ?? ID,
    expected: r.expected,
    secrets: {
      secret,
      ...(r.previousSecret ? { previousSecret: r.previousSecret } : {}),
      ...(r.apiKey ? { apiKey: r.apiKey } : {}),
      ...(r.otherProfiles ? { otherProfiles: r.otherProfiles } : {}),
    },
    ...(r.email !== undefined ? { email: r.email } : {}),
  };
  return diagnoseHash(input);
}

describe('diagnoseHash', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    const causes = run(r);
    expect([...new Set(causes.map((c) => c.code))].sort()).toEqual([...r.codes].sort());
    for (const c of causes) {
      expect(c.message.length).toBeGreaterThan(10);
      expect(c.fix.length).toBeGreaterThan(10);
    }
    if (r.mentions) expect(causes.map((c) => c.message).join(' ')).toContain(r.mentions);
    if (r.fixMentions) expect(causes.map((c) => c.fix).join(' ')).toContain(r.fixMentions);
  });

  it('every cause code has at least one row', () => {
    const covered = new Set(ROWS.flatMap((r) => r.codes));
    expect(HASH_CAUSE_CODES.filter((c) => !covered.has(c))).toEqual([]);
  });

  it('never reports the configured secret as a mistake when the hash is right', () => {
    expect(run({ name: 'right', expected: good, codes: [] })).toEqual([]);
  });

  it('names the profile whose secret matched', () => {
    const [c] = run({ name: 'x', otherProfiles: [{ name: 'eu-prod', secret: 'sk_eu' }], expected: hex(hmac('sk_eu', ID)), codes: [] });
    expect(c?.message).toContain('"eu-prod"');
    expect(c?.fix).toContain('"eu-prod"');
  });
});
