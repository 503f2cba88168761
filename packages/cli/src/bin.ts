#!/usr/bin/env node
import { ExitCode } from './exit-codes.js';
import { runCli } from './program.js';

/*
 * The `rlr` executable. The first Ctrl-C (or SIGTERM) asks the running command to stop at its next
 * safe point and save; a second one exits at once.
 */
const controller = new AbortController();
let interrupts = 0;
const onSignal = (sig: NodeJS.Signals) => {
  interrupts += 1;
  if (interrupts > 1) {
    process.stderr.write('\ninterrupted again: exiting without saving\n');
    process.exit(ExitCode.interrupted);
  }
  process.stderr.write(`\n${sig}: stopping at the next safe point (press Ctrl-C again to exit now)\n`);
  controller.abort(sig);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  signal: controller.signal,
});
// tfjs backends and worker pools can keep the event loop alive; the command is done, so leave.
process.stdout.write('', () => process.exit(code));
