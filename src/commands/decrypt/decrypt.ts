import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';

// Placeholder while issue 3 is built: registers nothing yet.
export function registerDecrypt(_program: Command, _ctx: Ctx): void {}
