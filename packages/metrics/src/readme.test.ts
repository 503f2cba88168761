import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** The README's quick-start block runs, and prints the numbers its comments promise. */
const here = fileURLToPath(new URL('.', import.meta.url));
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

describe('README quick start', () => {
  const file = join(tmpdir(), `rlr-metrics-readme-${process.pid}.ts`);
  afterEach(() => rmSync(file, { force: true }));

  it('runs and prints the commented values (numbers to 1e-12)', async () => {
    expect(block).toContain("from '@rlr/metrics'");
    const source = block.replace("from '@rlr/metrics'", `from ${JSON.stringify(join(here, 'index.ts'))}`);
    writeFileSync(file, source);
    const printed: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((value: unknown) => void printed.push(value));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      log.mockRestore();
    }
    const promised = block
      .split('\n')
      .filter((line) => line.trimStart().startsWith('console.log('))
      .map((line) => /\/\/ (\S+)/.exec(line)?.[1]);
    expect(printed.length).toBe(promised.length);
    promised.forEach((comment, i) => {
      const n = Number(comment);
      if (comment === 'null') expect(printed[i]).toBeNull();
      else if (Number.isFinite(n)) expect(Math.abs((printed[i] as number) - n)).toBeLessThanOrEqual(1e-12);
    });
  });
});
