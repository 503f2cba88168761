/**
 * Make a folder dataset like the one a factory has: one folder of good parts, a handful of
 * labelled defects with masks, and a folder of new images to check. The pictures come from the
 * synthetic generator of @rlr/data; with your own images, skip this step and point parts.yaml at
 * your folders.
 *
 *   npx tsx src/make-parts.ts [--out .] [--good 40] [--size 128]
 *
 * Writes <out>/parts/{good,defect,masks}/, <out>/incoming/ and <out>/incoming.json (the truth
 * about the incoming images, to check predictions against).
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateDataset, loadMvtec } from '@rlr/data/node';

export interface PartsOptions {
  out: string;
  /** Good images in parts/good. */
  good?: number;
  /** Labelled defects in parts/defect (with masks). */
  defects?: number;
  /** New images in incoming/ (about half defective). */
  incoming?: number;
  size?: number;
  seed?: number;
}

export interface PartsLayout {
  good: string;
  defect: string;
  masks: string;
  incoming: string;
  /** incoming file name → 0 good, 1 defective */
  truth: Record<string, 0 | 1>;
}

export async function makeParts(options: PartsOptions): Promise<PartsLayout> {
  const out = resolve(options.out);
  const good = options.good ?? 40;
  const defects = options.defects ?? 6;
  const incoming = options.incoming ?? 8;
  const scratch = await mkdtemp(join(tmpdir(), 'rlr-parts-'));
  try {
    // One product ("bracket"); its test split supplies defects for parts/defect and incoming/.
    const testCount = Math.ceil((defects + incoming) * 1.6);
    await generateDataset({ root: scratch, categories: ['bracket'], trainCount: good, testCount, size: options.size ?? 128, seed: options.seed ?? 11 });
    const data = await loadMvtec(scratch);
    const layout: PartsLayout = {
      good: join(out, 'parts', 'good'),
      defect: join(out, 'parts', 'defect'),
      masks: join(out, 'parts', 'masks'),
      incoming: join(out, 'incoming'),
      truth: {},
    };
    for (const dir of [layout.good, layout.defect, layout.masks, layout.incoming]) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    }
    for (const [i, s] of data.train.entries()) await copyFile(s.path, join(layout.good, `good_${String(i).padStart(3, '0')}.png`));
    const anomalous = data.test.filter((s) => s.label === 1);
    const normal = data.test.filter((s) => s.label === 0);
    for (const [i, s] of anomalous.slice(0, defects).entries()) {
      const stem = `${s.defectType}_${String(i).padStart(2, '0')}`;
      await copyFile(s.path, join(layout.defect, `${stem}.png`));
      await copyFile(s.maskPath!, join(layout.masks, `${stem}.png`));
    }
    const rest = [...anomalous.slice(defects, defects + Math.ceil(incoming / 2)), ...normal.slice(0, Math.floor(incoming / 2))];
    for (const [i, s] of rest.entries()) {
      const name = `part_${String(i).padStart(3, '0')}.png`;
      await copyFile(s.path, join(layout.incoming, name));
      layout.truth[name] = s.label;
    }
    await writeFile(join(out, 'incoming.json'), JSON.stringify(layout.truth, null, 2));
    return layout;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: '.' }, good: { type: 'string' }, size: { type: 'string' } },
  });
  makeParts({
    out: values.out,
    good: values.good === undefined ? undefined : Number(values.good),
    size: values.size === undefined ? undefined : Number(values.size),
  }).then(
    (l) => console.log(`wrote ${l.good}, ${l.defect}, ${l.masks} and ${Object.keys(l.truth).length} images in ${l.incoming}`),
    (e: Error) => {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
