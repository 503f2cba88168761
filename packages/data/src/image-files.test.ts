import { describe, expect, it } from 'vitest';
import { classifyEntry, extensionOf, stemOf } from './image-files.js';

describe('directory entries', () => {
  it('accepts image extensions case-insensitively', () => {
    for (const name of ['a.png', 'b.JPG', 'c.jpeg', 'd.Bmp', 'e.tif', 'f.TIFF', 'g.webp']) expect(classifyEntry(name)).toEqual({ kind: 'image' });
  });

  it('marks OS and tool droppings as stray', () => {
    for (const name of ['.DS_Store', 'Thumbs.db', 'desktop.ini', '._000.png', '.hidden.png', 'notes.txt~']) expect(classifyEntry(name).kind).toBe('stray');
  });

  it('marks other files as unsupported, with their extension', () => {
    expect(classifyEntry('clip.gif')).toEqual({ kind: 'unsupported', extension: '.gif' });
    expect(classifyEntry('README')).toEqual({ kind: 'unsupported', extension: '' });
  });

  it('splits names into stem and extension', () => {
    expect(extensionOf('x/y/kos01_part5.JPG')).toBe('.jpg');
    expect(stemOf('x/y/000_mask.png')).toBe('000_mask');
    expect(stemOf('noext')).toBe('noext');
  });
});
