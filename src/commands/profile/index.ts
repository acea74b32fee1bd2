import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';

// Placeholder while issue 2 is built: registers nothing yet.
export function registerProfile(_program: Command, _ctx: Ctx): void {}
