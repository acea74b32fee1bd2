import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { registerDecode } from './decode.js';
import { registerSign } from './sign.js';
import { registerVerify } from './verify.js';

export function registerToken(program: Command, ctx: Ctx): void {
  const token = program.command('token').description('Sign, verify and decode user identity tokens (HS256 JWTs)');
  for (const register of [registerSign, registerVerify, registerDecode]) register(token, ctx);
}
