import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { CodeBlock } from './code-blocks.js';

export interface RunResult {
  code: number | null;
  output: string;
  ms: number;
}

/**
 * Run one block in `workdir` (shared by the blocks of a page, so later blocks see what earlier
 * ones wrote). TypeScript and JavaScript run through tsx from a file inside `workdir`, which
 * lies inside the repository so `@rlr/*` imports resolve to the workspaces; shell blocks run in
 * bash with `set -euo pipefail`. `npx` may never download: NPM_CONFIG_YES=false.
 */
export function runBlock(block: CodeBlock, index: number, workdir: string, root: string): Promise<RunResult> {
  mkdirSync(workdir, { recursive: true });
  const shims = writeShims(join(dirname(workdir), '.bin'), root);
  const isShell = ['sh', 'bash', 'shell'].includes(block.lang);
  const ext = isShell ? 'sh' : block.lang.startsWith('t') ? 'mts' : 'mjs';
  const file = join(workdir, `block-${String(index).padStart(2, '0')}.${ext}`);
  writeFileSync(file, isShell ? `set -euo pipefail\n${block.code}\n` : `${block.code}\n`);
  const [cmd, args] = isShell ? ['bash', [file]] : [join(root, 'node_modules/.bin/tsx'), [file]];
  const env = {
    ...process.env,
    PATH: [shims, join(root, 'node_modules/.bin'), process.env.PATH ?? ''].join(delimiter),
    NPM_CONFIG_YES: 'false',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
  const t0 = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const take = (b: Buffer) => {
      output += b.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => {
      output += `\n[docs-test] killed after ${block.timeout} s`;
      // The block may have started children (npm, node): end its whole process group.
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, block.timeout * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output, ms: Date.now() - t0 });
    });
  });
}

/**
 * `rlr` and `npx rlr` as a user who installed `@rlr/cli` gets them, pointing at this checkout's
 * build. (npm links workspace bins only at install time, so a fresh build may not be linked yet.)
 * Any other `npx` call is passed on with `--no`: a docs block may never download a package.
 */
function writeShims(dir: string, root: string): string {
  mkdirSync(dir, { recursive: true });
  const cli = join(root, 'packages/cli/dist/bin.js');
  const write = (name: string, body: string) => {
    const file = join(dir, name);
    writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(file, 0o755);
  };
  write('rlr', `exec node ${JSON.stringify(cli)} "$@"`);
  write(
    'npx',
    [
      'if [ "${1:-}" = rlr ]; then shift; exec node ' + JSON.stringify(cli) + ' "$@"; fi',
      `exec ${JSON.stringify(join(dirname(process.execPath), 'npx'))} --no "$@"`,
    ].join('\n'),
  );
  return dir;
}
