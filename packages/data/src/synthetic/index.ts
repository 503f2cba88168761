export { SYNTHETIC_CATEGORIES, SYNTHETIC_TEXTURES, SYNTHETIC_OBJECTS, DEFECT_TYPES, isSyntheticCategory, isDefectType, type SyntheticCategory, type DefectType } from './categories.js';
export { renderSynthetic, type SyntheticImage, type SyntheticImageOptions } from './render.js';
export { planDataset, type PlannedImage, type DatasetPlanOptions } from './plan.js';
