/**
 * Static checks for shell blocks that cannot run on a test machine (a GPU box, a real dataset,
 * a published package): every command must still name things that exist. Each line is split
 * into commands and each command must be one we know how to check (rlr, npm, npx tsx, node, cd,
 * a repository `.sh` script, variable assignments); anything else is reported, so a `check` block
 * can never silently pass unchecked text.
 */

export interface CommandContext {
  /** `rlr <sub> --help` output, or undefined when `sub` is not a command. */
  rlrHelp(sub: string): string | undefined;
  /** Does this repository-relative path exist (file or folder)? */
  exists(path: string): boolean;
  /** Package names of the workspaces (`@rlr/core`, `@rlr/example-browser`, …). */
  workspaces: Set<string>;
  /** Versions of the packages in the lockfile, by name. */
  lockVersions: Map<string, string>;
  /** Root `package.json` scripts, and each workspace's, by workspace name. */
  scripts: { root: Set<string>; byWorkspace: Map<string, Set<string>> };
  /** Packages that may be installed by users though the lockfile cannot hold them, with the
   *  package whose version theirs must equal (tfjs-node must match tfjs-core). */
  optionalNative: Map<string, string>;
}

/** Join `\` continuations, drop comments and blank lines. */
export function logicalLines(script: string): string[] {
  const out: string[] = [];
  let acc = '';
  for (const raw of script.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      acc += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = (acc + line.trim()).trim();
    acc = '';
    if (!full || full.startsWith('#')) continue;
    out.push(full.replace(/\s+#\s.*$/, ''));
  }
  return out;
}

/**
 * Shell-ish word splitting with single and double quotes (no expansions); an assignment with a
 * quoted value (`FLAGS="--epochs 3"`) is one word.
 */
export function words(command: string): string[] {
  const out: string[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*=)(?:"([^"]*)"|'([^']*)')|"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) out.push(m[1] !== undefined ? m[1] + (m[2] ?? m[3]) : (m[4] ?? m[5] ?? m[6]));
  return out;
}

function splitPackageSpec(spec: string): { name: string; version?: string } {
  const at = spec.lastIndexOf('@');
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name: spec };
}

function checkRlr(args: string[], ctx: CommandContext): string[] {
  const sub = args[0];
  if (!sub || sub.startsWith('-')) return sub === '--help' || sub === '--version' ? [] : ['rlr needs a command'];
  const help = ctx.rlrHelp(sub);
  if (help === undefined) return [`"rlr ${sub}" is not an rlr command`];
  const errors: string[] = [];
  for (const a of args.slice(1)) {
    if (!a.startsWith('--')) continue;
    const flag = a.split('=')[0];
    const re = new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, '\\-')}(?![\\w-])`);
    if (!re.test(help)) errors.push(`"rlr ${sub}" has no option ${flag}`);
  }
  return errors;
}

function checkNpm(args: string[], ctx: CommandContext, cwd: string): string[] {
  const [verb, ...rest] = args;
  const errors: string[] = [];
  let workspace: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '-w' || a === '--workspace') workspace = rest[++i];
    else if (a.startsWith('--workspace=')) workspace = a.slice('--workspace='.length);
    else if (!a.startsWith('-')) positional.push(a);
  }
  if (workspace && !ctx.workspaces.has(workspace) && !ctx.exists(workspace)) {
    errors.push(`no workspace "${workspace}"`);
  }
  // `npm start` / `npm test` are `npm run start` / `npm run test`.
  if (verb === 'start' || (verb === 'test' && workspace)) return checkNpm(['run', verb, ...rest], ctx, cwd);
  switch (verb) {
    case 'ci':
    case 'test':
      return errors;
    case 'i':
    case 'install':
    case 'add': {
      for (const spec of positional) {
        const { name, version } = splitPackageSpec(spec);
        if (ctx.workspaces.has(name)) continue;
        const pairedWith = ctx.optionalNative.get(name);
        const want = ctx.lockVersions.get(pairedWith ?? name);
        if (want === undefined) errors.push(`"${name}" is neither a workspace nor in the lockfile`);
        else if (version && version !== want) errors.push(`${name}@${version}: the project pins ${pairedWith ?? name}@${want}`);
      }
      return errors;
    }
    case 'run':
    case 'run-script': {
      const script = positional[0];
      const known = workspace ? ctx.scripts.byWorkspace.get(workspace) : cwd === '.' ? ctx.scripts.root : ctx.scripts.byWorkspace.get(cwd);
      if (!script) errors.push('npm run needs a script');
      else if (!known?.has(script)) errors.push(`no npm script "${script}"${workspace ? ` in ${workspace}` : cwd === '.' ? ' at the root' : ` in ${cwd}`}`);
      return errors;
    }
    default:
      return [`cannot check "npm ${verb}"`];
  }
}

function joinPath(cwd: string, p: string): string {
  if (p.startsWith('/')) return p;
  const parts = (cwd === '.' ? [] : cwd.split('/')).concat(p.split('/'));
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/') || '.';
}

/** Problems found in `script` (empty when every command checks out). */
export function checkScript(script: string, ctx: CommandContext): string[] {
  const errors: string[] = [];
  let cwd = '.';
  for (const line of logicalLines(script)) {
    for (const part of line.split(/\s*(?:&&|\|\||;|\|)\s*/)) {
      let args = words(part);
      while (args.length && /^[A-Z_][A-Z0-9_]*=/.test(args[0])) args = args.slice(1);
      if (!args.length) continue;
      const [cmd, ...rest] = args;
      const say = (msgs: string[]) => errors.push(...msgs.map((m) => `${line}: ${m}`));
      if (cmd === 'npx' && rest[0] === 'rlr') say(checkRlr(rest.slice(1), ctx));
      else if (cmd === 'rlr') say(checkRlr(rest, ctx));
      else if (cmd === 'npx' && rest[0] === 'tsx') {
        if (!ctx.exists(joinPath(cwd, rest[1] ?? ''))) say([`no file ${joinPath(cwd, rest[1] ?? '')}`]);
      } else if (cmd === 'node') {
        const file = rest.find((a) => !a.startsWith('-'));
        if (!file || !ctx.exists(joinPath(cwd, file))) say([`no file ${joinPath(cwd, file ?? '')}`]);
      } else if (cmd === 'npm') say(checkNpm(rest, ctx, cwd));
      else if (cmd === 'cd') {
        const target = rest[0] ?? '.';
        // A folder made by an earlier command of the block (a clone) cannot be checked.
        if (!target.startsWith('/') && !target.startsWith('~')) {
          const next = joinPath(cwd, target);
          if (!ctx.exists(next)) say([`no folder ${next}`]);
          cwd = next;
        }
      } else if (cmd.endsWith('.sh')) {
        // A script of the repository (its own arguments are its business).
        if (!ctx.exists(joinPath(cwd, cmd))) say([`no file ${joinPath(cwd, cmd)}`]);
      } else if (cmd === 'export' || cmd === 'mkdir' || cmd === 'nvidia-smi') continue;
      else say([`cannot check "${cmd}": make the block runnable, or quote a tested file`]);
    }
  }
  return errors;
}
