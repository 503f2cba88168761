/**
 * The nearest-neighbour baseline's token scores as ONNX nodes: the nearest bank token by
 * −2·q·b + ‖b‖² (as @rlr/core's index ranks them), then the exact L2 distance to it.
 */
import type { GraphBuilder } from './graph-builder.js';

/**
 * @param tokens `[B, N, C]` features; @param bank `[M, C]` row-major
 * @returns the token scores `[B, N]`
 */
export function addKnnLevel(g: GraphBuilder, tokens: string, bank: Float32Array, channels: number, hint: string): string {
  const C = channels;
  const M = bank.length / C;
  const bankT = new Float32Array(C * M);
  const sq = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    let s = 0;
    for (let c = 0; c < C; c++) {
      const x = bank[m * C + c];
      bankT[c * M + m] = -2 * x;
      s += x * x;
    }
    sq[m] = s;
  }
  const partial = g.node('Add', [g.node('MatMul', [tokens, g.floats(`${hint}_bank_t`, bankT, [C, M])]), g.floats(`${hint}_bank_sq`, sq, [M])]);
  const nearest = g.node('ArgMin', [partial], { axis: -1, keepdims: 0 });
  const rows = g.node('Gather', [g.floats(`${hint}_bank`, bank, [M, C]), nearest], { axis: 0 });
  const diff = g.node('Sub', [rows, tokens]);
  const d2 = g.node('ReduceSum', [g.node('Mul', [diff, diff]), g.int64s('axis_last', [-1])], { keepdims: 0 });
  return g.node('Sqrt', [d2]);
}
