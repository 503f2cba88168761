import { chooseBackend } from './backend.js';
import { loadDetector, type Detector } from './detector.js';
import { fractionAbove, mapRange, renderOverlay, type ScoredView } from './overlay.js';

/**
 * The page: one model, any number of scored images, one threshold shared by all of them.
 * State the end-to-end test reads is mirrored into `data-*` attributes (body `data-state`,
 * `data-backend`, `data-scored`; each result's `data-score`) so it never parses display text.
 */

interface Result extends ScoredView {
  name: string;
  score: number;
  /** The score in [0, 1], 0.5 at the model's threshold (null: the model has no post-processor). */
  normalizedScore: number | null;
  canvas: HTMLCanvasElement;
  figure: HTMLElement;
  caption: HTMLElement;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusLine = $<HTMLParagraphElement>('status');
const backendOut = $<HTMLOutputElement>('backend');
const modelForm = $<HTMLFormElement>('model-form');
const modelUrlInput = $<HTMLInputElement>('model-url');
const modelInfo = $<HTMLParagraphElement>('model-info');
const drop = $<HTMLLabelElement>('drop');
const fileInput = $<HTMLInputElement>('file');
const slider = $<HTMLInputElement>('threshold');
const sliderValue = $<HTMLInputElement>('threshold-value');
const resultsBox = $<HTMLElement>('results');

const params = new URLSearchParams(location.search);
/** Target on-screen width of each result, in CSS pixels. */
const DISPLAY_WIDTH = 256;
let detector: Detector | undefined;
const results: Result[] = [];
let threshold = Number.NaN;
/** Until the user moves the threshold, it follows the data (see `defaultThreshold`). */
let thresholdTouched = false;
let pending = 0;

function setStatus(text: string, state?: 'ready' | 'busy' | 'error'): void {
  statusLine.textContent = text;
  if (state) document.body.dataset.state = state;
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 || x === 0 ? x.toFixed(2) : x.toPrecision(4);
}

// ---------------------------------------------------------------- threshold

/**
 * `?threshold=` from the address, else the model's own, else midway between the smallest and
 * largest map value seen, until the user picks one.
 */
function defaultThreshold(): number {
  const fromUrl = Number(params.get('threshold') ?? Number.NaN);
  if (Number.isFinite(fromUrl)) return fromUrl;
  if (detector?.threshold !== undefined) return detector.threshold;
  const r = mapRange(results.map((x) => x.map));
  return (r.min + r.max) / 2;
}

function syncThresholdControls(): void {
  const r = mapRange(results.map((x) => x.map));
  // The slider covers every map value plus a margin, so both "everything" and "nothing" are
  // reachable; the number box accepts any value.
  const pad = (r.max - r.min) * 0.05 || 0.05;
  const lo = Math.min(r.min - pad, threshold);
  const hi = Math.max(r.max + pad, threshold);
  slider.min = String(lo);
  slider.max = String(hi);
  slider.step = String((hi - lo) / 1000);
  slider.value = String(threshold);
  if (document.activeElement !== sliderValue) sliderValue.value = String(Number(threshold.toPrecision(6)));
}

function setThreshold(t: number, byUser: boolean): void {
  if (!Number.isFinite(t)) return;
  threshold = t;
  if (byUser) thresholdTouched = true;
  document.body.dataset.threshold = String(t);
  syncThresholdControls();
  redrawAll();
}

slider.addEventListener('input', () => setThreshold(Number(slider.value), true));
sliderValue.addEventListener('input', () => setThreshold(Number(sliderValue.value), true));
sliderValue.addEventListener('change', () => setThreshold(Number(sliderValue.value), true));

// ---------------------------------------------------------------- results

function redraw(r: Result): void {
  const range = mapRange(results.map((x) => x.map));
  r.canvas.getContext('2d')!.putImageData(renderOverlay(r, threshold, range), 0, 0);
  const flagged = r.score > threshold;
  r.figure.classList.toggle('anomalous', flagged);
  r.figure.dataset.flagged = String(flagged);
  const frac = fractionAbove(r.map, threshold);
  r.caption.innerHTML = '';
  const lines: [string, string][] = [
    ['name', r.name],
    ['score', `score ${fmt(r.score)}${r.normalizedScore === null ? '' : ` (normalised ${r.normalizedScore.toFixed(3)}; 0.5 = the model's threshold)`}`],
    ['verdict', flagged ? 'anomalous' : 'normal'],
    ['area', `${(100 * frac).toFixed(1)}% of pixels above threshold`],
  ];
  for (const [cls, text] of lines) {
    const span = document.createElement('div');
    span.className = cls;
    span.textContent = text;
    r.caption.append(span);
  }
}

function redrawAll(): void {
  for (const r of results) redraw(r);
}

function addError(name: string, message: string): void {
  const fig = document.createElement('figure');
  fig.className = 'result error';
  fig.dataset.name = name;
  fig.textContent = `${name}: ${message}`;
  resultsBox.append(fig);
}

async function scoreFile(file: File): Promise<void> {
  if (!detector) throw new Error('load a model first');
  {
    const out = await detector.score(file);
    const canvas = document.createElement('canvas');
    canvas.width = out.width;
    canvas.height = out.height;
    canvas.className = 'overlay';
    // Whole CSS pixels, aspect kept: an integer upscale keeps map pixels square on screen.
    const scale = Math.max(1, Math.floor(DISPLAY_WIDTH / out.width));
    canvas.style.width = `${out.width * scale}px`;
    canvas.style.height = `${out.height * scale}px`;
    const figure = document.createElement('figure');
    figure.className = 'result';
    figure.dataset.name = file.name;
    figure.dataset.score = String(out.score);
    if (out.normalizedScore !== null) figure.dataset.normalized = String(out.normalizedScore);
    const caption = document.createElement('figcaption');
    figure.append(canvas, caption);
    resultsBox.append(figure);
    results.push({ ...out, name: file.name, canvas, figure, caption });
  }
}

async function scoreFiles(files: Iterable<File>): Promise<void> {
  const list = [...files].filter((f) => f.type.startsWith('image/') || /\.(png|jpe?g|bmp|webp|gif)$/i.test(f.name));
  if (!list.length) return;
  pending += list.length;
  document.body.dataset.pending = String(pending);
  setStatus(`Scoring ${list.length} image${list.length > 1 ? 's' : ''}…`, 'busy');
  // One at a time: the model already uses the whole device for a single image.
  for (const file of list) {
    try {
      await scoreFile(file);
    } catch (e) {
      addError(file.name, (e as Error).message);
    }
    pending--;
    document.body.dataset.pending = String(pending);
  }
  if (!thresholdTouched) threshold = defaultThreshold();
  setThreshold(threshold, false);
  document.body.dataset.scored = String(results.length);
  setStatus(`Scored ${results.length} image${results.length === 1 ? '' : 's'}.`, 'ready');
}

fileInput.addEventListener('change', () => {
  const files = [...(fileInput.files ?? [])];
  fileInput.value = '';
  void scoreFiles(files);
});
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void scoreFiles(e.dataTransfer?.files ?? []);
});

// ---------------------------------------------------------------- model

async function loadModel(url: string): Promise<void> {
  setStatus(`Loading model from ${url}…`, 'busy');
  detector?.dispose();
  detector = undefined;
  try {
    detector = await loadDetector(new URL(url, location.href).toString());
    modelInfo.textContent = detector.description;
    fileInput.disabled = false;
    setStatus('Model loaded. Drop or choose images to score.', 'ready');
    document.body.dataset.model = 'loaded';
  } catch (e) {
    modelInfo.textContent = '';
    setStatus(`Could not load the model: ${(e as Error).message}`, 'error');
    document.body.dataset.model = 'failed';
  }
}

modelForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void loadModel(modelUrlInput.value.trim());
});

async function start(): Promise<void> {
  const choice = await chooseBackend(params.get('backend'));
  backendOut.textContent = choice.name + (choice.rejected.length ? ` (not used: ${choice.rejected.join('; ')})` : '');
  document.body.dataset.backend = choice.name;
  modelUrlInput.value = params.get('model') ?? 'model/';
  await loadModel(modelUrlInput.value);
}

start().catch((e: Error) => setStatus(e.message, 'error'));
