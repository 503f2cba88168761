/** Texture categories of the synthetic generator (the pattern fills the whole image). */
export const SYNTHETIC_TEXTURES = ['weave', 'grid', 'cloudy', 'wood'] as const;

/** Object categories of the synthetic generator (one part on a background). */
export const SYNTHETIC_OBJECTS = ['disc', 'bracket'] as const;

/** Every category the synthetic generator can draw. */
export const SYNTHETIC_CATEGORIES = [...SYNTHETIC_TEXTURES, ...SYNTHETIC_OBJECTS] as const;

/** A synthetic category name. */
export type SyntheticCategory = (typeof SYNTHETIC_CATEGORIES)[number];

/** Defect types the synthetic generator draws, each with an exact mask. */
export const DEFECT_TYPES = ['scratch', 'spot', 'hole', 'crack', 'missing_piece', 'contamination'] as const;

/** A synthetic defect type. */
export type DefectType = (typeof DEFECT_TYPES)[number];

/** Whether `name` is a synthetic category. */
export function isSyntheticCategory(name: string): name is SyntheticCategory {
  return (SYNTHETIC_CATEGORIES as readonly string[]).includes(name);
}

/** Whether `name` is a synthetic defect type. */
export function isDefectType(name: string): name is DefectType {
  return (DEFECT_TYPES as readonly string[]).includes(name);
}
