import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { usageError } from './errors.js';
import { camelCase, isSettingName, parseSetting, SETTING_KINDS, type SettingValues } from './settings.js';

/**
 * Sections a config file may group settings in. Their keys are flattened (`train.epochs` →
 * `epochs`); `data.root` is the dataset root (`--data`).
 */
const SECTIONS = new Set(['data', 'model', 'train', 'training', 'folder', 'backbone', 'run']);

/**
 * Aliases accepted in files, e.g. the SPEC's `normal_dir` spelled as the data section's `root`;
 * `model: knn` (a value, not a section) is the `--model` of `rlr train`.
 */
const ALIASES: Record<string, string> = { model: 'modelKind', kind: 'modelKind', root: 'data', dataRoot: 'data', dataset: 'data', imageSizes: 'imageSize', size: 'imageSize' };

/**
 * Read a YAML or JSON config file into parsed settings. Relative paths in it are taken relative to
 * the file's own folder, so a config can travel with its data. Unknown keys are errors (typos
 * would otherwise be silently ignored).
 */
export async function loadConfigFile(path: string): Promise<SettingValues> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw usageError(`cannot read config file ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path given to --config');
  }
  let doc: unknown;
  try {
    doc = extname(abs).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw usageError(`config file ${abs} is not valid ${extname(abs).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`, 'fix the syntax at the position in the message');
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw usageError(`config file ${abs} must hold a mapping of settings`, 'write one `key: value` per line, e.g. `epochs: 20`');
  }
  return parseConfigObject(doc as Record<string, unknown>, abs);
}

/** Flatten and parse a config object (see {@link loadConfigFile}); `file` is used for messages and relative paths. */
export function parseConfigObject(doc: Record<string, unknown>, file: string): SettingValues {
  const flat: [string, unknown, string][] = [];
  for (const [rawKey, value] of Object.entries(doc)) {
    const key = camelCase(rawKey);
    if (SECTIONS.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) flat.push([camelCase(k), v, `${rawKey}.${k}`]);
    } else {
      flat.push([key, value, rawKey]);
    }
  }
  const out: Record<string, unknown> = {};
  const baseDir = dirname(file);
  for (const [k, v, label] of flat) {
    const key = ALIASES[k] ?? k;
    if (!isSettingName(key)) {
      throw usageError(
        `config file ${file}: unknown setting "${label}"`,
        `valid settings: ${Object.keys(SETTING_KINDS).join(', ')}`,
      );
    }
    if (v === null || v === undefined) continue;
    out[key] = parseSetting(key, v, `config file ${file}: ${label}`, baseDir);
  }
  return out;
}
