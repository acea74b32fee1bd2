// The pure core, one named export per line (no `export *`), so callers see what exists.
export { buildTokenClaims, ID_CLAIM } from './jwt-claims.js';
export type { ExpiryChoice, JwtProvider, TokenClaimsInput } from './jwt-claims.js';
export { diagnoseJwt } from './jwt-causes.js';
export type { DiagnoseJwtInput, JwtCause } from './jwt-causes.js';
export { isPlainObject, MAX_JSON_DEPTH, MAX_TOKEN_BYTES, parseCompactJws, parseJwt } from './jwt-parse.js';
export type { ParsedJws, ParsedJwt, ParseJwtResult } from './jwt-parse.js';
export { HS256_HEADER, signHs256 } from './jwt-sign.js';
export { hs256JsonSigner, hs256Signer, signHs256Sync } from './jwt-sign-sync.js';
export { ago, iso, relativeClaimTime } from './jwt-time.js';
export { checkClaims, macMatches, verifyCompactHs256, verifyJwt } from './jwt-verify.js';
export type { JwtIssue, VerifyJwtInput, VerifyJwtResult, VerifyKey } from './jwt-verify.js';
export { hashesEqual, hmacBytes, plainDigest, userHash, userHasher } from './hmac.js';
export type { HmacAlgorithm } from './hmac.js';
export { diagnoseHash, HASH_CAUSE_CODES, MIN_TRUNCATED_HEX } from './hash-doctor.js';
export type { DiagnoseHashInput, HashCause, HashCauseCode } from './hash-doctor.js';
export { API_KEY_PREFIXES, looksLikeApiKey, SECRET_CAUSES, secretCandidates } from './secret-candidates.js';
export type { SecretCandidate, SecretCandidateInput, SecretCause } from './secret-candidates.js';
