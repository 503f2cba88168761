/**
 * One RLR level as ONNX nodes (SPEC section 3): Embedding2D of the tokens and of the reference,
 * L layers of LCA (attention inside the window) and MLKA (outside it) with dense additive masks,
 * LN₁(α·LCA + MLKA), FFN with exact GELU, LN₂, final LN and projection, then the token scores.
 */
import { sinCosPosition2D, windowMasks, type RLRLevel } from '@rlr/core';
import { readLevelValues } from '@rlr/core/internal';
import type { GraphBuilder } from './graph-builder.js';
import { gelu, layerNorm, linear, rlrTokenScores } from './graph-ops.js';

const concat = (parts: Float32Array[]): Float32Array => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

const scaled = (a: Float32Array, s: number): Float32Array => a.map((v) => Math.fround(v * s));

/**
 * Add one level's token scores to the graph.
 * @param tokens the level's smoothed backbone features `[B, N, C]` (row n = grid position row·w + col)
 * @returns the token scores `[B, N]`
 */
export async function addRlrLevel(g: GraphBuilder, level: RLRLevel, tokens: string, hint: string): Promise<string> {
  const { grid, channels: C, d, heads: H, layers, ffnHidden: F, window, alpha } = level.config;
  const [h, w] = grid;
  const N = h * w;
  const dh = d / H;
  const scale = 1 / Math.sqrt(dh);
  const v = await readLevelValues(level.params);
  const p = (n: string) => {
    const x = v.get(n);
    if (!x) throw new Error(`ONNX export: RLR level ${hint} has no parameter "${n}"`);
    return x;
  };
  const pos = g.floats(`${hint}_pos`, sinCosPosition2D(h, w, d), [N, d]);
  const masks = windowMasks(h, w, window);
  const maskInside = g.floats(`${hint}_mask_lca`, masks.inside, [N, N]);
  const maskOutside = g.floats(`${hint}_mask_mlka`, masks.outside, [N, N]);
  const ref = g.floats(`${hint}_ref`, p('ref'), [N, C]);
  const rh = g.node('Add', [linear(g, ref, p('refEmbed.w'), p('refEmbed.b'), C, d, `${hint}_refembed`), pos]); // [N, d]
  let y = g.node('Add', [linear(g, tokens, p('embed.w'), p('embed.b'), C, d, `${hint}_embed`), pos]); // [B, N, d]
  const tokShape = g.int64s(`${hint}_shape_bnhd`, [0, N, H, dh]);
  const refShape = g.int64s(`${hint}_shape_nhd`, [N, H, dh]);
  const mergeShape = g.int64s(`${hint}_shape_bnd`, [0, N, d]);
  /** [B, N, d] → [B, H, N, dh] */
  const tokHeads = (x: string) => g.node('Transpose', [g.node('Reshape', [x, tokShape])], { perm: [0, 2, 1, 3] });
  /** [N, d] → [H, N, dh] (or [H, dh, N] when `keys`) */
  const refHeads = (x: string, keys: boolean) => g.node('Transpose', [g.node('Reshape', [x, refShape])], { perm: keys ? [1, 2, 0] : [1, 0, 2] });
  /** softmax(q·kT + mask)·v, heads merged back to [B, N, d] */
  const attend = (q: string, kT: string, val: string, mask: string) => {
    const att = g.node('Softmax', [g.node('Add', [g.node('MatMul', [q, kT]), mask])], { axis: -1 });
    return g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [att, val])], { perm: [0, 2, 1, 3] }), mergeShape]);
  };
  for (let k = 0; k < layers; k++) {
    const l = (n: string) => p(`layers.${k}.${n}`);
    const lh = `${hint}_l${k}`;
    // The reference side: LCA keys (scaled) and values, MLKA keys (scaled), as @rlr/core folds the scale.
    const kL = refHeads(linear(g, rh, scaled(l('lca.wk'), scale), scaled(l('lca.bk'), scale), d, d, `${lh}_lca_k`), true);
    const vL = refHeads(linear(g, rh, l('lca.wv'), l('lca.bv'), d, d, `${lh}_lca_v`), false);
    const kM = refHeads(linear(g, rh, scaled(l('mlka.wk'), scale), scaled(l('mlka.bk'), scale), d, d, `${lh}_mlka_k`), true);
    const qL = tokHeads(linear(g, y, l('lca.wq'), l('lca.bq'), d, d, `${lh}_lca_q`));
    const qM = tokHeads(linear(g, y, l('mlka.wq'), l('mlka.bq'), d, d, `${lh}_mlka_q`));
    const vM = tokHeads(linear(g, y, l('mlka.wv'), l('mlka.bv'), d, d, `${lh}_mlka_v`));
    const lca = attend(qL, kL, vL, maskInside);
    const mlka = attend(qM, kM, vM, maskOutside);
    const both = g.node('Concat', [lca, mlka], { axis: -1 });
    const wOut = concat([scaled(l('lca.wo'), alpha), l('mlka.wo')]); // [2d, d]
    const bOut = l('lca.bo').map((b, i) => Math.fround(Math.fround(b * alpha) + l('mlka.bo')[i]));
    const z = layerNorm(g, linear(g, both, wOut, bOut, 2 * d, d, `${lh}_out`), l('norm1.g'), l('norm1.b'), `${lh}_norm1`);
    const f = linear(g, gelu(g, linear(g, z, l('fc1.w'), l('fc1.b'), d, F, `${lh}_fc1`)), l('fc2.w'), l('fc2.b'), F, d, `${lh}_fc2`);
    y = layerNorm(g, g.node('Add', [z, f]), l('norm2.g'), l('norm2.b'), `${lh}_norm2`);
  }
  const rec = linear(g, layerNorm(g, y, p('norm.g'), p('norm.b'), `${hint}_norm`), p('proj.w'), p('proj.b'), d, C, `${hint}_proj`);
  return rlrTokenScores(g, rec, tokens);
}
