import { describe, expect, it } from 'vitest';
import { dedent, extractBlocks, extractRegion } from './code-blocks.js';

describe('extractBlocks', () => {
  const page = [
    '# Title',
    '```ts',
    "const a = 1;",
    '```',
    '<!-- docs-test: excerpt examples/x/main.ts#train -->',
    '```ts',
    'train();',
    '```',
    '<!-- docs-test: check -->',
    '```sh',
    'npx rlr train --epochs 2',
    '```',
    '```json',
    '{"a": 1}',
    '```',
    '````md',
    '```ts',
    'not a block of its own',
    '```',
    '````',
    '<!-- docs-test: run timeout=300 -->',
    '```bash',
    'echo hi',
    '```',
  ].join('\n');
  const blocks = extractBlocks(page, 'p.md');

  it('finds every fenced block with its language, line and code', () => {
    expect(blocks.map((b) => [b.lang, b.line])).toEqual([
      ['ts', 2],
      ['ts', 6],
      ['sh', 10],
      ['json', 13],
      ['md', 16],
      ['bash', 22],
    ]);
    expect(blocks[0].code).toBe('const a = 1;');
    expect(blocks[4].code).toContain('not a block of its own');
  });

  it('applies directives and language defaults', () => {
    expect(blocks.map((b) => b.mode)).toEqual(['run', 'excerpt', 'check', 'parse', 'none', 'run']);
    expect(blocks[1].source).toEqual({ path: 'examples/x/main.ts', region: 'train' });
    expect(blocks[5].timeout).toBe(300);
  });

  it('rejects unknown directives and unclosed fences', () => {
    expect(() => extractBlocks('<!-- docs-test: maybe -->\n```ts\nx\n```', 'q.md')).toThrow(/q.md:2.*unknown/);
    expect(() => extractBlocks('```ts\nx\n', 'q.md')).toThrow(/never closed/);
    expect(() => extractBlocks('<!-- docs-test: check -->\n```ts\nx\n```', 'q.md')).toThrow(/sh blocks/);
  });
});

describe('extractRegion', () => {
  const src = [
    'import x from "y";',
    'async function main() {',
    '  // #region train',
    '  const model = make();',
    '  // #region inner',
    '  await fit(model);',
    '  // #endregion inner',
    '  // #endregion train',
    '}',
  ].join('\n');

  it('returns a dedented region without nested markers', () => {
    expect(extractRegion(src, 'train')).toBe('const model = make();\nawait fit(model);');
    expect(extractRegion(src, 'inner')).toBe('await fit(model);');
  });

  it('returns the whole file without markers when no region is named', () => {
    expect(extractRegion(src, undefined).split('\n')).toHaveLength(5);
  });

  it('names the file when a region is missing', () => {
    expect(() => extractRegion(src, 'eval', 'main.ts')).toThrow(/main.ts: no "#region eval"/);
  });

  it('dedent trims blank edges and common indentation', () => {
    expect(dedent('\n    a\n      b\n\n')).toBe('a\n  b');
  });
});
