import { describe, expect, it } from 'vitest';
import { ExitCode } from './exit-codes.js';
import { PRESETS } from './presets.js';
import { runCli } from './program.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, cwd: process.cwd() },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('rlr program', () => {
  it.each(['train', 'eval', 'predict', 'serve', 'worker', 'submit', 'import', 'bench', 'demo', 'info'])('%s --help shows options and examples', async (name) => {
    const t = io();
    const code = await runCli([name, '--help'], t.io);
    expect(code).toBe(ExitCode.ok);
    expect(t.out()).toContain(`Usage: rlr ${name}`);
    expect(t.out()).toMatch(/Examples:\n(\s+#.*\n)?\s+\$ rlr /);
  });

  it("demo --help passes weights of the demo preset's backbone", async () => {
    const t = io();
    expect(await runCli(['demo', '--help'], t.io)).toBe(ExitCode.ok);
    const files = [...t.out().matchAll(/--weights \S*?([\w.]+)\.safetensors/g)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f).toBe(PRESETS.demo.model.backbone);
  });

  it('top-level help lists every command and the exit codes', async () => {
    const t = io();
    expect(await runCli(['--help'], t.io)).toBe(ExitCode.ok);
    for (const c of ['train', 'eval', 'predict', 'serve', 'worker', 'submit', 'import', 'bench', 'demo', 'info']) expect(t.out()).toContain(`  ${c} `);
    expect(t.out()).toContain('Exit codes:');
  });

  it('unknown options, bad choices and missing required options are usage errors', async () => {
    let t = io();
    expect(await runCli(['train', '--bogus'], t.io)).toBe(ExitCode.usage);
    expect(t.err()).toContain("unknown option '--bogus'");
    t = io();
    expect(await runCli(['train', '--format', 'coco'], t.io)).toBe(ExitCode.usage);
    expect(t.err()).toMatch(/--format.*coco/);
    t = io();
    expect(await runCli(['eval'], t.io)).toBe(ExitCode.usage);
    expect(t.err()).toContain('--model');
    t = io();
    expect(await runCli([], t.io)).toBe(ExitCode.usage);
  });

  it('info reports backends as JSON', async () => {
    const t = io();
    expect(await runCli(['info', '--json'], t.io)).toBe(ExitCode.ok);
    const result = JSON.parse(t.out().trim().split('\n').at(-1)!);
    expect(result.event).toBe('result');
    const wasm = result.backends.find((b: { name: string }) => b.name === 'wasm');
    expect(wasm.available).toBe(true);
    expect(['tensorflow', 'wasm']).toContain(result.backend_in_use);
  });
});

describe('output modes', () => {
  it('bench --json <file> names a file and keeps human output', async () => {
    const { outputMode } = await import('./context.js');
    expect(outputMode({ json: true })).toBe('json');
    expect(outputMode({ json: 'bench.json' })).toBe('human');
    expect(outputMode({ quiet: true })).toBe('quiet');
  });
});
