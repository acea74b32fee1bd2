import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';

// Placeholder while issue 4 is built: registers nothing yet.
export function registerDelete(_parent: Command, _ctx: Ctx): void {}
