import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** `rlr bench` (being integrated with the packages). */
export async function run(_opts: Record<string, unknown>, _ctx: CommandContext, _cmd: Command, _args: string[]): Promise<void> {
  throw new CliError('rlr bench is not available yet', ExitCode.internal);
}
