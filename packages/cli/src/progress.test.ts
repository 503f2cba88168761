import { describe, expect, it } from 'vitest';
import { formatDuration, formatTable } from './format.js';
import { Logger } from './log.js';
import { ProgressTask, progressLine, type ProgressState } from './progress.js';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 100, write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

describe('progress', () => {
  it('computes rate and ETA from elapsed time', () => {
    let t = 0;
    const states: ProgressState[] = [];
    const task = new ProgressTask('extract', 100, 'img', { update: (s) => states.push(s) }, 0, () => t);
    t = 2000;
    task.tick(20, { loss: 0.5 });
    const s = states.at(-1)!;
    expect(s.rate).toBeCloseTo(10);
    expect(s.etaS).toBeCloseTo(8);
    expect(s.fields.loss).toBe(0.5);
    t = 5000;
    expect(task.done()).toBeCloseTo(5);
    expect(states.at(-1)!.done).toBe(20);
  });

  it('draws a bar with percentage, count, rate and ETA', () => {
    const line = progressLine({ label: 'epoch 3/20', unit: 'img', done: 50, total: 200, elapsedS: 10, rate: 5, etaS: 30, fields: { loss: 0.1234 } }, 120, false);
    expect(line).toMatch(/^epoch 3\/20 \[#+-+\] {2}25% {2}50\/200 {2}5\.00 img\/s {2}ETA 0:30 {2}loss 0\.1234$/);
  });

  it('redraws in place on a TTY and prints lines otherwise', () => {
    const tty = sink(true);
    const p = new Logger('human', sink(), tty).progress('x', 3, 'img');
    p.tick();
    p.done();
    expect(tty.text()).toContain('\r\x1b[2K');
    expect(tty.text().endsWith('\n')).toBe(true);
    const pipe = sink(false);
    new Logger('human', sink(), pipe).progress('y', 1).done();
    expect(pipe.text()).not.toContain('\r');
  });

  it('emits JSON progress events in json mode and nothing when quiet', () => {
    const out = sink();
    const task = new Logger('json', out, sink()).progress('train', 2, 'step');
    task.tick(2);
    task.done();
    const events = out.text().trim().split('\n').map((l) => JSON.parse(l));
    expect(events.every((e) => e.event === 'progress' && e.task === 'train')).toBe(true);
    expect(events.at(-1)).toMatchObject({ final: true, done: 2, total: 2 });
    const quietOut = sink();
    const quietErr = sink();
    const q = new Logger('quiet', quietOut, quietErr);
    q.progress('z', 1).done();
    q.info('hidden');
    q.warn('shown');
    expect(quietOut.text()).toBe('');
    expect(quietErr.text()).toBe('warning: shown\n');
  });
});

describe('format', () => {
  it('formats durations and tables', () => {
    expect(formatDuration(65.2)).toBe('1:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(NaN)).toBe('--:--');
    const t = formatTable(['name', 'auroc'], [['bottle', '0.990'], ['screw', '0.800']]).split('\n');
    expect(t[0]).toBe('name    auroc');
    expect(t[2]).toBe('bottle  0.990');
  });
});
