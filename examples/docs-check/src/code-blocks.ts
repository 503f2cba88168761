/**
 * Fenced code blocks of a Markdown page and what the docs test does with each of them.
 *
 * A block may be preceded (on the line right above its opening fence) by a directive comment:
 *
 *   <!-- docs-test: run -->                       execute it (default for ts, js, sh)
 *   <!-- docs-test: run timeout=240 -->           … with a longer limit (seconds)
 *   <!-- docs-test: excerpt examples/x/src/main.ts#train -->
 *                                                 it must equal that region of a tested file
 *   <!-- docs-test: typecheck -->                 ts only: compile it (strict), do not run it
 *   <!-- docs-test: check -->                     sh only: commands that cannot run here (GPU,
 *                                                 real datasets); each line is checked statically
 *
 * Blocks of other languages (json, yaml, text, …) are not code to run; json and yaml blocks are
 * still parsed.
 */

export type Mode = 'run' | 'excerpt' | 'typecheck' | 'check' | 'parse' | 'none';

export interface CodeBlock {
  /** Page the block came from (as given to `extractBlocks`). */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Language of the fence, lower case ('' when none). */
  lang: string;
  code: string;
  mode: Mode;
  /** For `excerpt`: repository-relative file, and region name when given. */
  source?: { path: string; region?: string };
  /** Seconds a `run` block may take. */
  timeout: number;
}

export const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'sh', 'bash', 'shell']);
export const DEFAULT_TIMEOUT_S = 120;

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)[^\n]*$/;
const DIRECTIVE = /^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$/;

function defaultMode(lang: string): Mode {
  if (RUNNABLE.has(lang)) return 'run';
  if (lang === 'json' || lang === 'yaml' || lang === 'yml') return 'parse';
  return 'none';
}

function parseDirective(text: string, lang: string, where: string): Pick<CodeBlock, 'mode' | 'source' | 'timeout'> {
  const [word, ...rest] = text.split(/\s+/).filter(Boolean);
  let timeout = DEFAULT_TIMEOUT_S;
  for (const opt of rest) {
    const m = /^timeout=(\d+)$/.exec(opt);
    if (m) timeout = Number(m[1]);
  }
  switch (word) {
    case 'run':
      if (!RUNNABLE.has(lang)) throw new Error(`${where}: "run" needs a ts, js or sh block, not "${lang}"`);
      return { mode: 'run', timeout };
    case 'typecheck':
      if (lang !== 'ts' && lang !== 'typescript') throw new Error(`${where}: "typecheck" is for ts blocks`);
      return { mode: 'typecheck', timeout };
    case 'check':
      if (!['sh', 'bash', 'shell'].includes(lang)) throw new Error(`${where}: "check" is for sh blocks`);
      return { mode: 'check', timeout };
    case 'excerpt': {
      const ref = rest.find((r) => !r.startsWith('timeout='));
      if (!ref) throw new Error(`${where}: "excerpt" needs a file, e.g. excerpt examples/x/src/main.ts#region`);
      const [path, region] = ref.split('#');
      return { mode: 'excerpt', source: { path, region: region || undefined }, timeout };
    }
    default:
      throw new Error(`${where}: unknown docs-test directive "${text}" (run, excerpt, typecheck or check)`);
  }
}

/** Every fenced block of `markdown`, with its directive applied. */
export function extractBlocks(markdown: string, page: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, rawLang] = open;
    const lang = rawLang.toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j].trim();
      if (close.startsWith(fence[0].repeat(fence.length)) && /^[`~]+$/.test(close)) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    if (j === lines.length) throw new Error(`${page}:${i + 1}: code fence is never closed`);
    const where = `${page}:${i + 1}`;
    const above = i > 0 ? DIRECTIVE.exec(lines[i - 1]) : null;
    const opts = above ? parseDirective(above[1], lang, where) : { mode: defaultMode(lang), timeout: DEFAULT_TIMEOUT_S };
    blocks.push({ page, line: i + 1, lang, code: body.join('\n'), ...opts });
    i = j;
  }
  return blocks;
}

/** Remove the indentation common to every non-blank line, and blank lines at both ends. */
export function dedent(text: string): string {
  const lines = text.replace(/\s+$/gm, '').split('\n');
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const indents = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

/**
 * The text between `// #region name` and `// #endregion` (or `# #region` in shell, `<!-- #region`
 * in HTML) in `source`, with nested region markers removed and dedented. Without a name, the
 * whole file minus every region marker.
 */
export function extractRegion(source: string, name: string | undefined, file = 'source'): string {
  const marker = /^\s*(?:\/\/|#|<!--)\s*#(end)?region\b\s*([\w.-]*)/;
  const lines = source.split(/\r?\n/);
  if (name === undefined) return dedent(lines.filter((l) => !marker.test(l)).join('\n'));
  const start = lines.findIndex((l) => {
    const m = marker.exec(l);
    return m !== null && !m[1] && m[2] === name;
  });
  if (start < 0) throw new Error(`${file}: no "#region ${name}" marker`);
  const out: string[] = [];
  let depth = 0;
  for (let i = start + 1; i < lines.length; i++) {
    const m = marker.exec(lines[i]);
    if (m && !m[1]) {
      depth++;
      continue;
    }
    if (m && m[1]) {
      if (depth === 0) return dedent(out.join('\n'));
      depth--;
      continue;
    }
    out.push(lines[i]);
  }
  throw new Error(`${file}: "#region ${name}" is never closed by "#endregion"`);
}
