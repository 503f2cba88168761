import { describe, expect, it } from 'vitest';
import { checkScript, logicalLines, words, type CommandContext } from './check-commands.js';

const ctx: CommandContext = {
  rlrHelp: (sub) => (sub === 'train' ? 'Options:\n  --config <file>\n  --epochs <n>\n  --backend <name>' : undefined),
  exists: (p) => ['examples/paper', 'examples/paper/src/main.ts', 'packages/cli'].includes(p),
  workspaces: new Set(['@rlr/core', '@rlr/example-paper']),
  lockVersions: new Map([
    ['@tensorflow/tfjs-core', '4.22.0'],
    ['sharp', '0.35.5'],
  ]),
  scripts: { root: new Set(['build', 'docs']), byWorkspace: new Map([['@rlr/example-paper', new Set(['start'])]]) },
  optionalNative: new Map([['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-core']]),
};

describe('checkScript', () => {
  it('accepts commands, options, packages and files that exist, following cd', () => {
    const script = [
      '# comment',
      'npm run docs',
      'npm i @tensorflow/tfjs-node-gpu@4.22.0 @rlr/core',
      'npx rlr train --config paper.yaml \\',
      '  --epochs=200 --backend tensorflow',
      'cd examples/paper && npx tsx src/main.ts',
      'npm run start -w @rlr/example-paper',
      'npm start -w @rlr/example-paper -- --quick',
    ].join('\n');
    expect(checkScript(script, ctx)).toEqual([]);
  });

  it('reports each thing that does not exist', () => {
    const errors = checkScript(
      [
        'npx rlr train --lr 1e-3',
        'npx rlr fit',
        'npm i @tensorflow/tfjs-node-gpu@4.21.0 left-pad',
        'node nowhere.js',
        'npm run deploy',
        'npm start',
        'curl http://x',
      ].join('\n'),
      ctx,
    );
    expect(errors).toHaveLength(8);
    expect(errors[0]).toMatch(/no option --lr/);
    expect(errors[1]).toMatch(/"rlr fit" is not an rlr command/);
    expect(errors[2]).toMatch(/pins @tensorflow\/tfjs-core@4.22.0/);
    expect(errors[3]).toMatch(/left-pad/);
    expect(errors[4]).toMatch(/no file nowhere.js/);
    expect(errors[5]).toMatch(/no npm script "deploy"/);
    expect(errors[6]).toMatch(/no npm script "start" at the root/);
    expect(errors[7]).toMatch(/cannot check "curl"/);
  });

  it('accepts variable assignments and repository scripts, and names a script that does not exist', () => {
    const script = ['W=../shared/weights', 'G="--data d --format mvtec --weights $W"', 'FAST_FLAGS="--epochs 10" PAPER_FLAGS=\'--epochs 3\' packages/cli/bench/presets.sh generated /tmp/p $G'].join('\n');
    const withScript = { ...ctx, exists: (p: string) => p === 'packages/cli/bench/presets.sh' || ctx.exists(p) };
    expect(checkScript(script, withScript)).toEqual([]);
    expect(checkScript('bench/nope.sh a b', withScript)).toEqual(['bench/nope.sh a b: no file bench/nope.sh']);
    expect(words('A="x y" b \'c d\'')).toEqual(['A=x y', 'b', 'c d']);
  });

  it('refuses commands it cannot check', () => {
    expect(checkScript('curl http://example', ctx)[0]).toMatch(/cannot check "curl"/);
  });

  it('splits lines and words like a shell would for these purposes', () => {
    expect(logicalLines('a \\\n b\n\n# c\nd # note')).toEqual(['a b', 'd']);
    expect(words(`rlr train --name "two words" 'x y'`)).toEqual(['rlr', 'train', '--name', 'two words', 'x y']);
  });
});
