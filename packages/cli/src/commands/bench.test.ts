import { describe, expect, it } from 'vitest';
import type { BackendStatus } from '../backend.js';
import { defaultBenchBackends } from './bench.js';

const status = (name: BackendStatus['name'], available: boolean): BackendStatus => ({ name, available, package: `pkg-${name}` });

describe('defaultBenchBackends', () => {
  it('measures only the default backend: tensorflow when installed, else wasm, never cpu next to them', () => {
    expect(defaultBenchBackends([status('tensorflow', true), status('wasm', true), status('cpu', true)])).toEqual(['tensorflow']);
    expect(defaultBenchBackends([status('tensorflow', false), status('wasm', true), status('cpu', true)])).toEqual(['wasm']);
  });

  it('falls back to cpu only when nothing else works', () => {
    expect(defaultBenchBackends([status('tensorflow', false), status('wasm', false), status('cpu', true)])).toEqual(['cpu']);
  });
});
