import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve, basename } from 'node:path';
import { Confinement } from './confine.js';
import { parse } from 'csv-parse/sync';
import { DataError } from '../errors.js';
import { classifyEntry, IMAGE_EXTENSIONS } from '../image-files.js';
import type { AnomalyDataset, Sample } from '../types.js';
import { selectCategories } from './category-filter.js';

/** Options of {@link loadVisa}. */
export interface VisaOptions {
  /** Only these objects (default: every object in the split file). */
  categories?: readonly string[];
  /** Split file relative to the root. Default `split_csv/1cls.csv` (the 1-class split). */
  splitFile?: string;
  /**
   * Every anomalous row must name a mask (default true). With false, anomalous images without a
   * mask are kept with `maskPath` unset (image-level evaluation only).
   */
  requireMasks?: boolean;
}

const COLUMNS = ['object', 'split', 'label', 'image', 'mask'] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

/**
 * Reads the file lists of a VisA dataset from its split file (`split_csv/1cls.csv`, columns
 * `object,split,label,image,mask`, paths relative to the root, label `normal|anomaly`, `mask`
 * empty for normal rows). Every referenced file must exist. Anomalous samples get defect type
 * `anomaly` (the split file has no finer type). Nothing is decoded here.
 *
 * Every path must stay inside the root: an absolute row, a row that climbs out with `..`, or a
 * symbolic link that leads outside is refused (naming the row) before the file is opened.
 */
export async function loadVisa(root: string, options: VisaOptions = {}): Promise<AnomalyDataset> {
  root = resolve(root);
  const csvPath = join(root, options.splitFile ?? join('split_csv', '1cls.csv'));
  let text: string;
  try {
    text = await readFile(csvPath, 'utf8');
  } catch {
    throw new DataError(
      'not-found',
      csvPath,
      'the VisA split file does not exist',
      'Pass the VisA root (the folder holding split_csv/ and one folder per object); generate split_csv/1cls.csv with the VisA prepare script if it is missing.',
    );
  }
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true, info: true }) as typeof records;
  } catch (e) {
    throw new DataError('invalid-layout', csvPath, `is not valid CSV (${(e as Error).message})`, 'Restore the split file from the VisA release.');
  }
  const header = records.length > 0 ? Object.keys(records[0].record) : [];
  const missing = COLUMNS.filter((c) => !header.includes(c));
  if (records.length === 0 || missing.length > 0) {
    throw new DataError('invalid-layout', csvPath, records.length === 0 ? 'has no rows' : `lacks the column(s) ${missing.join(', ')}`, `The header must be ${COLUMNS.join(',')}.`);
  }

  const confine = await Confinement.of(root);
  const exists = existenceCache();
  const train: Sample[] = [];
  const test: Sample[] = [];
  const all = new Set<string>();
  for (const { record, info } of records) {
    const row = record as Row;
    const where = `${csvPath} line ${info.lines}`;
    const bad = (problem: string, fix: string) => new DataError('invalid-layout', where, problem, fix);
    if (!row.object) throw bad('the object column is empty', 'Fill in the object (category) name.');
    if (row.split !== 'train' && row.split !== 'test') throw bad(`split is "${row.split}"`, 'Use train or test.');
    if (row.label !== 'normal' && row.label !== 'anomaly') throw bad(`label is "${row.label}"`, 'Use normal or anomaly.');
    if (row.split === 'train' && row.label === 'anomaly') throw bad('an anomalous image is in the training split', 'The 1-class split trains on normal images only; move the row to the test split.');
    if (!row.image) throw bad('the image column is empty', 'Give the image path relative to the root.');
    const path = await checkFile(confine.join(row.image, where), where, exists, confine);
    all.add(row.object);
    const sample: Sample = { path, category: row.object, label: row.label === 'anomaly' ? 1 : 0, defectType: row.label === 'anomaly' ? 'anomaly' : 'good' };
    if (row.label === 'anomaly') {
      if (row.mask) {
        sample.maskPath = await checkFile(confine.join(row.mask, where), where, exists, confine);
      } else if (options.requireMasks !== false) {
        throw new DataError('missing-mask', path, `anomalous test image has no mask (${where} has an empty mask column)`, 'Add the mask path to the split file, remove the row, or load with requireMasks: false for image-level evaluation only.');
      }
    } else if (row.mask) {
      throw bad(`a normal image has a mask (${row.mask})`, 'Normal rows have an empty mask column; fix the label or the mask.');
    }
    (row.split === 'train' ? train : test).push(sample);
  }

  const available = [...all].sort();
  const categories = selectCategories(available, options.categories, root);
  const keep = (s: Sample) => categories.includes(s.category);
  for (const c of categories) {
    if (!train.some((s) => s.category === c)) {
      throw new DataError('empty', csvPath, `object ${c} has no training rows`, `Add its normal training images to the split file, or leave ${c} out with the categories option.`);
    }
  }
  return { format: 'visa', root, categories, train: train.filter(keep), test: test.filter(keep), skipped: [] };
}

/** Looks files up by listing each folder once (thousands of rows share a few folders). */
function existenceCache() {
  const listings = new Map<string, Promise<Set<string>>>();
  return (path: string) => {
    const dir = dirname(path);
    let names = listings.get(dir);
    if (!names) {
      names = readdir(dir).then(
        (n) => new Set(n),
        () => new Set<string>(),
      );
      listings.set(dir, names);
    }
    return names.then((n) => n.has(basename(path)));
  };
}

async function checkFile(path: string, where: string, exists: (p: string) => Promise<boolean>, confine: Confinement): Promise<string> {
  const name = basename(path);
  const kind = classifyEntry(name);
  if (kind.kind !== 'image') {
    throw new DataError('unsupported-format', path, `(from ${where}) is not a supported image type (supported: ${IMAGE_EXTENSIONS.join(' ')})`, 'Convert the file to PNG and update the split file.');
  }
  await confine.check(path, where);
  if (!(await exists(path))) throw new DataError('not-found', path, `(from ${where}) does not exist`, 'Restore the file, or remove its row from the split file.');
  return path;
}
