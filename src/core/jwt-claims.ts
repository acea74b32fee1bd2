import { UsageError } from '../cli/errors.js';

/** Providers whose identity is an HS256 JWT chatid signs locally. */
export type JwtProvider = 'chatbase' | 'replyful' | 'generic';

/** The claim that carries the user id, per provider (../shared/spec/vendors.md §2.1, §5.1). */
export const ID_CLAIM: Readonly<Record<JwtProvider, string>> = { chatbase: 'user_id', replyful: 'userId', generic: 'sub' };

/** Lifetime: seconds from `iat`, an absolute Unix time, or no `exp` at all. */
export type ExpiryChoice = { kind: 'in'; seconds: number } | { kind: 'at'; unix: number } | { kind: 'none' };

export interface TokenClaimsInput {
  provider: JwtProvider;
  userId: string;
  email?: string;
  name?: string;
  phone?: string;
  /** Chatbase `custom_attributes` (string values). */
  attrs?: ReadonlyArray<readonly [string, string]>;
  /** Chatbase `stripe_accounts` as label → customer id. */
  stripeAccounts?: ReadonlyArray<readonly [string, string]>;
  /**
   * Extra top-level claims (already typed: strings from --claim, JSON from --claim-json), each
   * with the flag that gave it, for errors (default --claim).
   */
  claims?: ReadonlyArray<readonly [string, unknown, string?]>;
  /** Signing time in Unix seconds. */
  now: number;
  exp: ExpiryChoice;
  iat: boolean;
}

/**
 * The payload of a user token for a provider, claims in a stable order. The user id is
 * always a string claim; Replyful always gets `iat` (jsonwebtoken adds it, and exp = iat+1h).
 * A claim set twice (a flag and `--claim`) is a usage error, never a silent override.
 * @example buildTokenClaims({ provider: 'generic', userId: 'u1', now: 1700000000, exp: { kind: 'in', seconds: 3600 }, iat: true })
 * // { sub: 'u1', iat: 1700000000, exp: 1700003600 }
 */
export function buildTokenClaims(o: TokenClaimsInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (key: string, value: unknown, from: string): void => {
    refuseProtoKey(key, from);
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      throw new UsageError('ERR_TOKEN_CLAIM_TWICE', `The claim "${key}" is set twice (again by ${from}).`, {
        hint: 'Give each claim once; use --user-id, --email, --name, --exp for the standard ones.',
      });
    }
    out[key] = value;
  };
  if (o.provider === 'replyful' && !o.iat) {
    throw new UsageError('ERR_TOKEN_IAT_REQUIRED', 'Replyful tokens always carry iat (exp = iat + lifetime).', { hint: 'Drop --no-iat.' });
  }
  set(ID_CLAIM[o.provider], String(o.userId), '--user-id');
  if (o.email !== undefined) set('email', o.email, '--email');
  if (o.name !== undefined) set('name', o.name, '--name');
  if (o.phone !== undefined) set(o.provider === 'chatbase' ? 'phonenumber' : 'phone', o.phone, '--phone');
  if (o.attrs?.length) {
    if (o.provider !== 'chatbase') throw notFor('--attr', o.provider, '--claim k=v');
    const attrs: Record<string, string> = {};
    for (const [k, v] of o.attrs) {
      refuseProtoKey(k, '--attr');
      if (Object.prototype.hasOwnProperty.call(attrs, k)) throw new UsageError('ERR_TOKEN_CLAIM_TWICE', `--attr ${k} is given twice.`, { hint: 'Give each attribute once.' });
      attrs[k] = v;
    }
    set('custom_attributes', attrs, '--attr');
  }
  if (o.stripeAccounts?.length) {
    if (o.provider !== 'chatbase') throw notFor('--stripe-account', o.provider, '--claim-json');
    set('stripe_accounts', o.stripeAccounts.map(([label, stripeId]) => ({ label, stripe_id: stripeId })), '--stripe-account');
  }
  for (const [k, v, from = '--claim'] of o.claims ?? []) {
    if (k === 'iat' || k === 'exp') {
      throw new UsageError('ERR_TOKEN_CLAIM_RESERVED', `Set ${k} with --${k === 'iat' ? 'iat/--no-iat' : 'exp'}, not ${from}.`, { hint: `Use --exp <dur|unix|none>${k === 'iat' ? ' and --no-iat' : ''}.` });
    }
    set(k, v, from);
  }
  if (o.iat) out.iat = o.now;
  if (o.exp.kind === 'in') out.exp = o.now + o.exp.seconds;
  else if (o.exp.kind === 'at') out.exp = o.exp.unix;
  return out;
}

/**
 * `out[key] = v` with key "__proto__" sets the prototype instead of a claim: the claim would
 * vanish from the token, or an object value would make jose refuse the payload.
 */
function refuseProtoKey(key: string, from: string): void {
  if (key === '__proto__') {
    throw new UsageError('ERR_TOKEN_CLAIM_NAME', `${from}: "__proto__" cannot be a claim or attribute name.`, { hint: 'Pick another name.' });
  }
}

function notFor(flag: string, provider: string, instead: string): UsageError {
  return new UsageError('ERR_TOKEN_FLAG_PROVIDER', `${flag} is a Chatbase claim; the provider is ${provider}.`, { hint: `Use ${instead} for custom claims.` });
}
