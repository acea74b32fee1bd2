import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../test/helpers/test-ctx.js';

const SECRET = 'sk_test_0123456789abcdef0123456789abcdef';
const env = { CHATID_SECRET: SECRET, CHATID_PROVIDER: 'chatbase' };
const cli = (argv: string[]) => runCli(argv, createTestCtx({ env, profiles: { a: { provider: 'chatbase' }, b: { provider: 'chatbase' } }, activeProfile: 'a' }));

describe('an option given twice', () => {
  it.each([
    [['token', 'sign', '--user-id', 'alice', '--user-id', 'bob'], '--user-id is given twice, with different values.'],
    [['token', 'sign', 'u1', '--exp', '1h', '--exp=none'], '--exp is given twice, with different values.'],
    [['--profile', 'a', 'whoami', '--profile', 'b'], '--profile is given twice, with different values.'],
    [['hash', 'u1', '--expect', 'aa', '--expect', 'bb'], '--expect is given twice, with different values.'],
    [['token', 'sign', 'u1', '--iat', '--no-iat'], '--iat and --no-iat contradict each other.'],
  ])('%j with different values is a usage error (commander kept the last one silently)', async (argv, message) => {
    const r = await cli([...argv, '--json']);
    expect([r.exitCode, r.json().error.code, r.json().error.message]).toEqual([2, 'ERR_USAGE_OPTION_TWICE', message]);
  });

  it('does not repeat the values, which may be secrets', async () => {
    const r = await cli(['hash', 'u1', '--secret', 'first-secret-value', '--secret', 'second-secret-value', '--json']);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_USAGE_OPTION_TWICE']);
    expect(r.stdout + r.stderr).not.toMatch(/first-secret|second-secret/);
  });

  it('accepts the same value twice, repeatable options, and option-like text after --', async () => {
    const same = await cli(['token', 'sign', '--user-id', 'u1', '--user-id', 'u1', '--json']);
    expect([same.exitCode, same.json().payload.user_id]).toEqual([0, 'u1']);
    const repeat = await cli(['token', 'sign', 'u1', '--claim', 'a=1', '--claim', 'b=2', '--json']);
    expect([repeat.exitCode, repeat.json().payload.a, repeat.json().payload.b]).toEqual([0, '1', '2']);
    const value = await cli(['token', 'sign', 'u1', '--claim', 'x=--exp', '--exp', '1h', '--json']);
    expect(value.exitCode).toBe(0);
    const dashes = await cli(['hash', '--expect', 'aa', '--', '--expect']);
    expect(dashes.stderr).not.toContain('ERR_USAGE_OPTION_TWICE');
  });
});
