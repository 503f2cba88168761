import { Command, CommanderError, Option } from 'commander';
import { type CommandContext, outputMode, type OutputFlags } from './context.js';
import { classifyError, formatError } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { Logger } from './log.js';
import type { TextSink } from './progress.js';
import { PRESET_NAMES } from './preset-names.js';
import { THRESHOLD_MODES } from './thresholds.js';
import { FORMATS } from './settings.js';
import { VERSION } from './version.js';

/** Where the program writes; tests pass doubles. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  cwd: string;
  /** Stand-in for process signals (tests abort it to simulate Ctrl-C). */
  signal?: AbortSignal;
}

type Action = (opts: Record<string, unknown>, ctx: CommandContext, cmd: Command, args: string[]) => Promise<ExitCodeValue | void>;

/** Commander parser of a repeatable option: every value, in order. */
function collectValues(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function outputOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'machine-readable output: one JSON object per line on stdout')
    .option('-q, --quiet', 'print only the result and errors')
    .option('-v, --verbose', 'show stack traces and extra detail');
}

function backendOption(cmd: Command): Command {
  return cmd.addOption(new Option('--backend <name>', 'tfjs backend: auto (fastest installed), tensorflow, wasm, cpu').choices(['auto', 'tensorflow', 'wasm', 'cpu']));
}

/** `--backend` of predict, eval, serve and worker: the tfjs backends, or onnxruntime with the run's exported model.onnx. */
function scoringBackendOption(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <name>', 'auto (fastest installed tfjs backend), tensorflow, wasm, cpu, or onnxruntime (scores with the exported model.onnx: see rlr export)').choices(['auto', 'tensorflow', 'wasm', 'cpu', 'onnxruntime']))
    .option('--onnx <file>', '--backend onnxruntime: the exported model (default: <run-dir>/model.onnx)');
}

function workersOption(cmd: Command): Command {
  return cmd.option('--workers <n>', 'worker threads for feature extraction, training steps and inference: auto (one per core, the default) or a number; 1 computes in the main thread');
}

function dataOptions(cmd: Command): Command {
  return cmd
    .option('--data <root>', 'dataset root folder')
    .addOption(new Option('--format <format>', 'dataset layout').choices([...FORMATS]))
    .option('--categories <list>', 'comma-separated categories to use (default: all)')
    .option('--normal-dir <dir>', 'folder format: normal (good) images')
    .option('--abnormal-dir <dir>', 'folder format: anomalous images')
    .option('--mask-dir <dir>', 'folder format: ground-truth masks (same stem as the anomalous image)')
    .option('--normal-test-dir <dir>', 'folder format: normal test images (default: a seeded hold-out of --normal-dir)')
    .option('--test-fraction <f>', 'folder format: fraction of --normal-dir held out for testing when there is no --normal-test-dir')
    .option('--allow-missing-masks', 'keep anomalous test images that have no mask (mvtec, visa): image-level metrics only for them')
    .option('--config <file>', 'YAML or JSON file with these settings (flags override it)');
}

function weightsOptions(cmd: Command): Command {
  return cmd
    .option('--weights <source>', 'backbone weights: a local file or folder, a URL, hf://<repo>/<file>, or "random" (BatchNorm-calibrated random init)')
    .option('--offline', 'never download: use --weights or the weight cache only (also RLR_OFFLINE=1)')
    .option('--cache-dir <dir>', 'weight cache folder (default: RLR_CACHE or ~/.cache/rlr)');
}

/** `--download-timeout` on the commands that may download weights. */
function downloadOptions(cmd: Command): Command {
  return cmd.option('--download-timeout <s>', 'seconds a weights download waits for the server to answer or send more data before retrying (default 30)');
}

const EXAMPLES = {
  worker: `
Examples:
  # on each scoring machine (the images must be at the same paths, e.g. a shared mount)
  $ rlr worker --queue redis://queue-host:6379/0 --model runs/mvtec --concurrency 8
`,
  submit: `
Examples:
  # queue a folder, wait for the workers, write one line per image
  $ rlr submit --queue redis://queue-host:6379/0 /mnt/line3/2026-12-02 --out predictions.jsonl
  # images a camera server publishes: the workers fetch each URL
  $ rlr submit --queue redis://queue-host:6379/0 http://cam3.local/frames/0001.png http://cam3.local/frames/0002.png
`,
  serve: `
Examples:
  # serve a run on port 8080 of this machine; stop with Ctrl-C or SIGTERM (requests in flight finish)
  $ rlr serve --model runs/mvtec
  $ curl --data-binary @part.png -H 'content-type: image/png' http://127.0.0.1:8080/v1/predict
  # all interfaces, larger uploads, bigger batches
  $ rlr serve --model runs/mvtec --host 0.0.0.0 --port 9000 --max-body-mb 50 --max-batch 16
`,
  train: `
Examples:
  # official configuration on MVTec AD, all categories, one unified model
  $ rlr train --data ./mvtec_ad --format mvtec --preset paper --out runs/mvtec
  # quicker CPU run on two categories with a smaller input
  $ rlr train --data ./mvtec_ad --format mvtec --categories bottle,screw --preset fast --image-size 224
  # your own images; the settings in a file, one flag overriding it
  $ rlr train --config my-data.yaml --epochs 50
  # continue an interrupted run from its last checkpoint
  $ rlr train --out runs/mvtec --resume

Config file (YAML or JSON; keys as the flags, kebab-, snake- or camelCase):
  data: ./parts            # relative paths are relative to the file
  format: folder
  normal_dir: ./parts/good
  abnormal_dir: ./parts/defect
  mask_dir: ./parts/masks
  preset: fast
  train: { epochs: 40, batch_size: 8 }
`,
  eval: `
Examples:
  $ rlr eval --model runs/mvtec --data ./mvtec_ad --format mvtec --out reports/mvtec
  # the data settings default to the ones the model was trained with
  $ rlr eval --model runs/mvtec
  $ rlr eval --model runs/parts --config my-data.yaml --json > eval.log
  # two runs side by side on the same test images (e.g. RLR against the knn baseline)
  $ rlr eval --model runs/parts --model runs/parts-knn --out reports/parts-vs-knn

Writes metrics.json, report.md (with PNGs beside it) and a self-contained report.html.
`,
  predict: `
Examples:
  $ rlr predict --model runs/mvtec ./incoming/*.png --out predictions
  $ rlr predict --model runs/mvtec ./incoming --threshold 0.8 --json > scores.jsonl

The threshold defaults to the pooled F1-max threshold of the model's latest \`rlr eval\` report
(its metrics.json, wherever --out put it); without one, use --threshold. With
--threshold-mode category each image gets its category's F1-max threshold instead:
  $ rlr predict --model runs/mvtec ./mvtec_ad/screw/test --threshold-mode category
  $ rlr predict --model runs/mvtec ./incoming --category screw
`,
  import: `
Examples:
  # the authors' released MVTec AD checkpoint, read directly
  $ rlr import --official ./rlr_mvtec.pth --out runs/official-mvtec
  $ rlr eval --model runs/official-mvtec --data ./mvtec_ad --format mvtec
  # a safetensors conversion (tensor names level0.…, level1.…), backbone weights from a file
  $ rlr import --official ./rlr.safetensors --backbone tf_efficientnet_b6 --weights ./b6.safetensors --out runs/official

The .pth is read with a tensor-only reader: no code in the pickle is run, and pickles that need
more than dicts, lists, numbers, strings and tensors are refused (convert those to safetensors).
`,
  bench: `
Examples:
  $ rlr bench                                   # the default backend (tensorflow or wasm), presets fast and paper
  $ rlr bench --backends wasm --presets fast --iterations 2 --json bench.json
  $ rlr bench --weights random --image-size 128 # no pretrained weights needed
  $ rlr bench --backends wasm --presets fast --onnx   # tfjs wasm and onnxruntime inference side by side
`,
  export: `
Examples:
  $ rlr export --format onnx --model runs/mvtec                       # writes runs/mvtec/model.onnx
  $ rlr export --format onnx --model runs/mvtec --out mvtec.onnx --threshold 0.9
  $ rlr predict --model runs/mvtec --backend onnxruntime ./incoming   # score with the exported file

The model takes uint8 RGB images [batch, H, W, 3] already resized and cropped to the run's image
size, and returns score, map, normalized_score and (with a threshold) label. See docs/export.md.
`,
  demo: `
Examples:
  $ rlr demo                  # generate data, train, evaluate, print the report path
  $ rlr demo --out /tmp/demo --weights ./tf_efficientnet_b3.safetensors  # the demo preset's backbone
`,
  info: `
Examples:
  $ rlr info
  $ rlr info --json
`,
};

/**
 * Build the `rlr` command tree. Actions load their modules lazily so `rlr --help` and `rlr info`
 * start without loading the model code.
 */
export function buildProgram(io: CliIo, onResult: (code: ExitCodeValue) => void): Command {
  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(io.signal?.reason));
  const program = new Command('rlr')
    .description('RLR unsupervised multi-class anomaly detection (He et al., ECCV 2024) on TensorFlow.js')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .exitOverride();

  const wrap =
    (action: () => Promise<{ run: Action }>) =>
    async (...received: unknown[]): Promise<void> => {
      // Commander passes positional args, then the options object, then the command.
      const cmd = received[received.length - 1] as Command;
      const opts = cmd.opts() as Record<string, unknown> & OutputFlags;
      const args = cmd.args;
      const ctx: CommandContext = {
        log: new Logger(outputMode(opts), io.stdout, io.stderr),
        verbose: Boolean(opts.verbose),
        signal: controller.signal,
        cwd: io.cwd,
        stdout: io.stdout,
        stderr: io.stderr,
      };
      const { run } = await action();
      const code = await run(opts, ctx, cmd, args);
      onResult(code ?? ExitCode.ok);
    };

  const cmds: Command[] = [];
  const train = program
    .command('train')
    .description('train one unified RLR model on the normal images of every category (or build the nearest-neighbour baseline)')
    .addOption(new Option('--model <kind>', 'model to build: rlr (the default) or knn (nearest-neighbour baseline: a memory bank of training tokens, no epochs)').choices(['rlr', 'knn']))
    .option('--coreset <fraction>', 'knn: fraction of the training tokens the memory bank keeps, in (0, 1] (default 0.1; 1 keeps all)')
    .addOption(new Option('--preset <name>', 'starting settings').choices([...PRESET_NAMES]))
    .option('--backbone <name>', 'feature extractor, e.g. tf_efficientnet_b6, tf_efficientnet_b0, mobilenet_v1_0.75')
    .option('--out-indices <list>', 'backbone stages used as levels, e.g. 2,3')
    .option('--image-size <size>', 'crop size: 256 or HxW such as 256x640')
    .option('--resize <n>', 'shorter-side resize before the crop (default: the crop side)')
    .option('--resize-mode <mode>', 'how images reach --image-size: crop (resize the shorter side, centre crop; the default), fit (letterbox: whole image, padded) or stretch (ignore the aspect ratio)')
    .option('--tile <size>', 'train and score on tiles of this size (256 or HxW; the model input size) cut from each image at --tile-scale, instead of one resized crop')
    .option('--tile-stride <s>', 'step between tiles in pixels (or HxW), at most --tile (default: half the tile)')
    .option('--tile-scale <f>', 'scale applied to each image before tiling (default 1: native resolution)')
    .option('--epochs <n>', 'training epochs')
    .option('--batch-size <n>', 'images per optimisation step')
    .option('--layers <n>', 'attention layers per level')
    .option('--hidden <list>', 'hidden width per level, e.g. 256,512')
    .option('--heads <n>', 'attention heads')
    .option('--window <list>', 'attention window (odd), one for all levels or one per level, e.g. 5 or 7,5 (default: by grid size, 16→5, 32→7, 64→11, smaller grids less)')
    .option('--attention <variant>', 'attention of every layer, one for all levels or one per level: mlka+lca (the paper, default), cross+mlka, lca, cross, residual-cross, residual-self (the paper\'s ablations, docs/variants.md)')
    .option('--alpha <x>', 'weight α of local cross-attention in LN(α·LCA + MLKA) (default 2, the paper)')
    .option('--jitter-scale <s>', 'scale of the training feature noise (default 4, the paper); 0 trains without noise')
    .option('--lr <x>', 'Adam learning rate (the peak of --lr-schedule cosine)')
    .option('--lr-schedule <kind>', 'learning-rate schedule: constant (the paper) or cosine (decays to ~0 at the last epoch)')
    .option('--warmup-epochs <n>', 'epochs of linear learning-rate warm-up before the schedule (default 0)')
    .option('--ref-init <mode>', 'initial reference: randn (the paper), mean (mean training feature map) or sample (one seeded training image)')
    .option('--val-fraction <f>', 'fraction of the normal training images held out (seeded) for validation, between 0 and 1 (default 0.1)')
    .option('--early-stop <patience>', 'stop when the validation loss has not improved for this many epochs')
    .option('--keep <which>', 'model saved at the end: last (default) or best-val (lowest validation loss)')
    .option('--threshold-quantile <q>', "quantile of the held-out validation normals' scores that becomes the model's threshold (postprocessor.json; default 0.99)")
    .option('--sensitivity <s>', 'move that threshold: 0..1, higher flags more images (default 0.5: the quantile as it is)')
    .option('--max-minutes <m>', 'training budget: stop cleanly after m minutes (checkpoint, then the model is saved); RLR_BUDGET_CPU_CORES=n counts process CPU time / n instead of wall time')
    .option('--snapshot-minutes <list>', 'also save a snapshot run folder (<out>/snapshots/<m>min) at the last epoch end before each budget mark, e.g. 5,10')
    .option('--seed <n>', 'random seed (initialisation, jitter, shuffling)')
    .option('--out <run-dir>', 'run folder: model, checkpoints, feature cache, history (default: runs/<preset>-<time>)')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--checkpoint-every <n>', 'save a checkpoint every n epochs (default 1)');
  cmds.push(train);
  dataOptions(train);
  weightsOptions(train);
  downloadOptions(train);
  backendOption(train);
  workersOption(train);
  outputOptions(train).addHelpText('after', EXAMPLES.train).action(wrap(() => import('./commands/train.js')));

  const evalCmd = program
    .command('eval')
    .description('evaluate a trained model: metrics.json, report.md and report.html')
    .requiredOption('--model <run-dir>', 'run folder written by rlr train (RLR or knn); repeat it to compare runs side by side on the same test images', collectValues)
    .option('--out <report-dir>', 'report folder (default: <run-dir>/report; with several --model: <first run-dir>/compare)')
    .option('--batch-size <n>', 'images per inference batch')
    .option('--gallery <n>', 'heatmap gallery images per category (default 4)')
    .option('--save-heatmaps', 'also write an overlay PNG for every test image')
    .option('--resize-mode <mode>', "crop, fit or stretch (default: the run's, recorded at training)")
    .option('--tile <size>', "score on tiles of the model's input size (default: the run's tiling)")
    .option('--tile-stride <s>', "step between tiles (default: the run's, or half the tile)")
    .option('--tile-scale <f>', "scale applied before tiling (default: the run's, or 1)");
  dataOptions(evalCmd);
  weightsOptions(evalCmd);
  downloadOptions(evalCmd);
  scoringBackendOption(evalCmd);
  workersOption(evalCmd);
  outputOptions(evalCmd).addHelpText('after', EXAMPLES.eval).action(wrap(() => import('./commands/eval.js')));
  cmds.push(evalCmd);

  const predict = program
    .command('predict')
    .description('score images: anomaly score, label and heatmap overlay per image')
    .argument('<inputs...>', 'image files or folders (searched recursively)')
    .requiredOption('--model <run-dir>', 'run folder written by rlr train')
    .option('--out <dir>', 'where overlays and predictions.jsonl go (default: ./predictions)')
    .option('--threshold <x>', 'anomaly score threshold (default: from the eval report)')
    .addOption(new Option('--threshold-mode <mode>', "which eval-report threshold labels an image: pooled (one for all, the default) or category (its category's, from --category or the image's <category>/ folder; else pooled)").choices([...THRESHOLD_MODES]))
    .option('--category <name>', 'the category of every input image (implies --threshold-mode category)')
    .option('--batch-size <n>', 'images per inference batch')
    .option('--no-heatmaps', 'do not write overlay PNGs')
    .option('--overlay-size <size>', 'overlay PNGs at the model input size (input, the default) or on the original image with the map placed back by the resize mode (source); tiled runs: always the image size')
    .option('--resize-mode <mode>', "crop, fit or stretch (default: the run's, recorded at training)")
    .option('--tile <size>', "score on tiles of the model's input size (default: the run's tiling)")
    .option('--tile-stride <s>', "step between tiles (default: the run's, or half the tile)")
    .option('--tile-scale <f>', "scale applied before tiling (default: the run's, or 1)");
  weightsOptions(predict);
  downloadOptions(predict);
  scoringBackendOption(predict);
  workersOption(predict);
  outputOptions(predict).addHelpText('after', EXAMPLES.predict).action(wrap(() => import('./commands/predict.js')));
  cmds.push(predict);

  const serve = program
    .command('serve')
    .description('score images over HTTP: POST /v1/predict, GET /healthz, /readyz, /metrics (Prometheus)')
    .requiredOption('--model <run-dir>', 'run folder written by rlr train')
    .option('--port <n>', 'TCP port (default 8080; 0 picks a free one)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)')
    .option('--threshold <x>', 'anomaly score threshold (default: the pooled one of the eval report)')
    .option('--max-body-mb <n>', 'largest accepted upload in MB; larger ones get 413 (default 20)')
    .option('--timeout-ms <n>', 'answer 504 when an image is not scored within this time (default 30000)')
    .option('--max-queue <n>', 'predict requests admitted at once; one more gets 503 with Retry-After (default 32)')
    .option('--max-batch <n>', 'most images scored in one backend batch (default 8)')
    .option('--batch-wait-ms <n>', 'how long an image waits for others to batch with (default 5)');
  weightsOptions(serve);
  downloadOptions(serve);
  scoringBackendOption(serve);
  outputOptions(serve).addHelpText('after', EXAMPLES.serve).action(wrap(() => import('./commands/serve.js')));
  cmds.push(serve);

  const worker = program
    .command('worker')
    .description('score images queued by rlr submit (BullMQ over Redis) until stopped; run one per machine or core')
    .requiredOption('--queue <url>', 'the Redis holding the queue, e.g. redis://host:6379/0')
    .requiredOption('--model <run-dir>', 'run folder written by rlr train')
    .option('--queue-name <name>', 'queue name (default rlr-predict)')
    .option('--concurrency <n>', 'jobs taken at once, scored as one batch (default 4)')
    .option('--threshold <x>', 'anomaly score threshold (default: the pooled one of the eval report)')
    .option('--lock-ms <n>', 'job lock time: a worker that dies has its jobs re-delivered after at most this (default 30000)');
  weightsOptions(worker);
  downloadOptions(worker);
  scoringBackendOption(worker);
  outputOptions(worker).addHelpText('after', EXAMPLES.worker).action(wrap(() => import('./commands/worker.js')));
  cmds.push(worker);

  const submit = program
    .command('submit')
    .description('queue images for rlr worker, wait with a progress bar, write predictions.jsonl')
    .argument('<inputs...>', 'image files or folders (searched recursively; workers must see the same paths), or http(s):// image URLs (workers fetch them)')
    .requiredOption('--queue <url>', 'the Redis holding the queue, e.g. redis://host:6379/0')
    .option('--queue-name <name>', 'queue name (default rlr-predict)')
    .option('--out <file>', 'where the results go (default ./predictions.jsonl)')
    .option('--attempts <n>', 'tries per image before it is reported failed (default 3)')
    .option('--backoff-ms <n>', 'first retry delay, doubled each retry (default 1000)');
  outputOptions(submit).addHelpText('after', EXAMPLES.submit).action(wrap(() => import('./commands/submit.js')));
  cmds.push(submit);

  const importCmd = program
    .command('import')
    .description("make a run folder from the authors' released weights (.pth, or safetensors with the official names)")
    .requiredOption('--official <file>', 'the checkpoint: the released .pth (read without running its pickle) or a .safetensors conversion')
    .option('--out <run-dir>', 'run folder to create')
    .option('--backbone <name>', 'the backbone the weights were trained on (default tf_efficientnet_b6)')
    .option('--out-indices <list>', 'its stages used as levels (default 2,3)')
    .option('--image-size <size>', 'crop size the weights were trained at (default 256)')
    .option('--resize <n>', 'shorter-side resize before the crop (default: the crop side)')
    .option('--heads <n>', 'attention heads (the file does not record them; default 8, as released)')
    .option('--window <list>', 'attention window per level (default: by grid size, as released)')
    .option('--ignore-unknown-tensors', 'accept tensors that are not RLR parameters instead of failing');
  weightsOptions(importCmd);
  downloadOptions(importCmd);
  backendOption(importCmd);
  outputOptions(importCmd).addHelpText('after', EXAMPLES.import).action(wrap(() => import('./commands/import.js')));
  cmds.push(importCmd);

  const exportCmd = program
    .command('export')
    .description('export a trained run (backbone, model, map, score, threshold) as one ONNX model for onnxruntime')
    .addOption(new Option('--format <format>', 'export format').choices(['onnx']).makeOptionMandatory())
    .requiredOption('--model <run-dir>', 'run folder written by rlr train (RLR or knn)')
    .option('--out <file>', 'the model file to write (default: <run-dir>/model.onnx)')
    .option('--threshold <x>', 'image-score threshold stored in the model (default: the model\'s post-processor, fitted on validation normals; else the run\'s latest eval report)')
    .option('--norm-min <x>', 'score mapped to 0 by the normalised-score output (with --norm-max; default: the post-processor\'s range, 0.5 at its threshold)')
    .option('--norm-max <x>', 'score mapped to 1 by the normalised-score output (with --norm-min)');
  weightsOptions(exportCmd);
  downloadOptions(exportCmd);
  outputOptions(exportCmd).addHelpText('after', EXAMPLES.export).action(wrap(() => import('./commands/export.js')));
  cmds.push(exportCmd);

  const bench = program
    .command('bench')
    .description('throughput and peak memory of extraction, training and inference per backend and preset')
    .option('--backends <list>', 'backends to measure, e.g. wasm,cpu (default: the default backend only: tensorflow when installed, else wasm)')
    .option('--presets <list>', 'presets to measure (default: fast,paper)')
    .addOption(new Option('--model <kind>', 'model to measure: rlr (the default) or knn (nearest-neighbour baseline with the presets\' backbone and size)').choices(['rlr', 'knn']))
    .option('--coreset <fraction>', 'knn: fraction of the bank\'s training tokens kept, in (0, 1] (default 0.1)')
    .option('--backbone <name>', 'override the presets\' backbone')
    .option('--image-size <size>', 'override the presets\' input size')
    .option('--batch-size <n>', 'override the presets\' batch size')
    .option('--iterations <n>', 'timed repetitions of each step (default 2)')
    .option('--warmup <n>', 'untimed repetitions first (default 1)')
    .option('--json <file>', 'also write the results as a JSON array to this file')
    .option('--onnx', 'also export each measured model to ONNX and time its inference in onnxruntime, beside tfjs')
    .addOption(new Option('--child').hideHelp());
  weightsOptions(bench);
  workersOption(bench);
  bench
    .option('-q, --quiet', 'print only the result and errors')
    .option('-v, --verbose', 'show stack traces and extra detail')
    .addHelpText('after', EXAMPLES.bench)
    .action(wrap(() => import('./commands/bench.js')));
  cmds.push(bench);

  const demo = program
    .command('demo')
    .description('generate a dataset, train, evaluate and write a report, offline, in a few minutes')
    .option('--out <dir>', 'demo folder (default: ./rlr-demo)')
    .option('--epochs <n>', 'override the demo preset\'s epochs');
  weightsOptions(demo);
  backendOption(demo);
  workersOption(demo);
  outputOptions(demo).addHelpText('after', EXAMPLES.demo).action(wrap(() => import('./commands/demo.js')));
  cmds.push(demo);

  const info = program.command('info').description('versions, backends, weight cache contents');
  info.option('--cache-dir <dir>', 'weight cache folder (default: RLR_CACHE or ~/.cache/rlr)');
  outputOptions(info).addHelpText('after', EXAMPLES.info).action(wrap(() => import('./commands/info.js')));
  cmds.push(info);

  for (const c of cmds) c.exitOverride().configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) }).showHelpAfterError('(run with --help for usage)');
  program.addHelpText(
    'after',
    `
Examples:
  $ rlr demo
  $ rlr train --data ./mvtec_ad --format mvtec --preset fast --out runs/mvtec
  $ rlr eval --model runs/mvtec
  $ rlr predict --model runs/mvtec ./new-images --out predictions

Exit codes: 0 ok, 1 internal error, 2 usage, 3 data, 4 model/weights, 5 quality gate, 6 file system (disk full, read-only, permissions), 130 interrupted.
Run \`rlr <command> --help\` for a command's options.`,
  );
  return program;
}

/**
 * Run the CLI on `argv` (without the node and script paths) and return the exit code. Errors are
 * printed as one line plus the fix (with the stack under `--verbose`).
 */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCodeValue> {
  let code: ExitCodeValue = ExitCode.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; everything else commander rejects is a usage error (already printed).
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const verbose = argv.includes('--verbose') || argv.includes('-v');
    const json = argv.includes('--json');
    const text = formatError(e, verbose);
    if (json) {
      const { message, hint, exitCode } = classifyError(e);
      io.stdout.write(`${JSON.stringify({ event: 'error', time: new Date().toISOString(), message, hint, exit_code: exitCode })}\n`);
      if (verbose) io.stderr.write(`${text}\n`);
    } else {
      io.stderr.write(`${text}\n`);
    }
    return classifyError(e).exitCode;
  }
}
