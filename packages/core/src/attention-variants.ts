import type { LcaTile } from './local-cross-attention.js';

/**
 * The attention variants of the paper's ablation (Table 3), as a per-level model setting. Every
 * variant keeps the rest of the layer (LN₁, the FFN with its residual, LN₂, the final norm and
 * projection, the loss); only the attention sublayer Z = LN₁(·) changes:
 *
 * | variant          | Z = LN₁(…)                                | Q | K | V | residual |
 * | ---------------- | ----------------------------------------- | - | - | - | -------- |
 * | `mlka+lca`       | α·LCA(Y, Rₕ, Rₕ) + MLKA(Y, Rₕ, Y)          | Y | Rₕ | Rₕ / Y | no |
 * | `cross+mlka`     | α·CA(Y, Rₕ, Rₕ) + MLKA(Y, Rₕ, Y)           | Y | Rₕ | Rₕ / Y | no |
 * | `lca`            | LCA(Y, Rₕ, Rₕ)                             | Y | Rₕ | Rₕ | no |
 * | `cross`          | CA(Y, Rₕ, Rₕ)                              | Y | Rₕ | Rₕ | no |
 * | `residual-cross` | Y + CA(Y, Rₕ, Rₕ)                          | Y | Rₕ | Rₕ | yes |
 * | `residual-self`  | Y + SA(Y, Y, Y)                            | Y | Y | Y | yes |
 *
 * LCA attends inside each token's window, MLKA outside it, CA (plain cross-attention) and SA
 * (self-attention) to every token. `mlka+lca` is the paper's model and the default.
 */
export const ATTENTION_VARIANTS = ['mlka+lca', 'cross+mlka', 'lca', 'cross', 'residual-cross', 'residual-self'] as const;

/** One of {@link ATTENTION_VARIANTS}. */
export type AttentionVariant = (typeof ATTENTION_VARIANTS)[number];

/** The paper's model. */
export const DEFAULT_ATTENTION: AttentionVariant = 'mlka+lca';

/**
 * Attention modules a layer can hold, by internal parameter prefix: `lca` (cross-attention to the
 * reference, windowed or not; official name `mca`), `mlka` (official `nsa`) and `sa`
 * (self-attention; official `self_attn`, the name PyTorch's encoder layer uses).
 */
export type AttentionModule = 'lca' | 'mlka' | 'sa';

/** How a variant's attention sublayer is built. */
export interface VariantParts {
  /** The modules each layer holds, in parameter order. */
  modules: AttentionModule[];
  /** Whether the reference cross-attention (`lca` module) is restricted to the window. */
  windowed: boolean;
  /** Whether the layer input is added before LN₁. */
  residual: boolean;
  /** Whether the model has a reference R at all (every variant but `residual-self`). */
  usesReference: boolean;
  /** Whether α weights the cross-attention against MLKA (only variants with both). */
  usesAlpha: boolean;
}

/** The structure of `variant` (absent: the default). */
export function variantParts(variant: AttentionVariant | undefined): VariantParts {
  switch (variant ?? DEFAULT_ATTENTION) {
    case 'mlka+lca':
      return { modules: ['lca', 'mlka'], windowed: true, residual: false, usesReference: true, usesAlpha: true };
    case 'cross+mlka':
      return { modules: ['lca', 'mlka'], windowed: false, residual: false, usesReference: true, usesAlpha: true };
    case 'lca':
      return { modules: ['lca'], windowed: true, residual: false, usesReference: true, usesAlpha: false };
    case 'cross':
      return { modules: ['lca'], windowed: false, residual: false, usesReference: true, usesAlpha: false };
    case 'residual-cross':
      return { modules: ['lca'], windowed: false, residual: true, usesReference: true, usesAlpha: false };
    case 'residual-self':
      return { modules: ['sa'], windowed: false, residual: true, usesReference: false, usesAlpha: false };
  }
}

/** Whether `v` names a variant. */
export function isAttentionVariant(v: unknown): v is AttentionVariant {
  return typeof v === 'string' && (ATTENTION_VARIANTS as readonly string[]).includes(v);
}

/**
 * Tiles of unrestricted attention for the tiled cross-attention kernel: the queries of
 * `tileRows` grid rows each against every key, mask all zeros. With these tiles the LCA kernels
 * compute plain cross-attention (CA).
 */
export function denseTiles(h: number, w: number, tileRows: number): LcaTile[] {
  const n = h * w;
  const tiles: LcaTile[] = [];
  for (let row0 = 0; row0 < h; row0 += tileRows) {
    const [q0, q1] = [row0 * w, Math.min(h, row0 + tileRows) * w];
    tiles.push({ q0, q1, k0: 0, k1: n, mask: new Float32Array((q1 - q0) * n) });
  }
  return tiles;
}
