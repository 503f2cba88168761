import type { PresetName } from '@rlr/core';

/**
 * Names of the presets (`--preset` choices), without loading the model code: `rlr --help` starts
 * fast. They are @rlr/core's `presets` (a test checks the two lists agree).
 */
export const PRESET_NAMES = ['paper', 'fast', 'demo'] as const satisfies readonly PresetName[];
