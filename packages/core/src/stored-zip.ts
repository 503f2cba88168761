/**
 * A reader for the zip archives `torch.save` writes (PyTorch ≥ 1.6): every entry STORED
 * (uncompressed), data padded to 64-byte boundaries through the local header's extra field,
 * zip64 records once the archive passes 4 GB. Compressed entries are refused with a message:
 * PyTorch never writes them, and a re-zipped checkpoint is not what this reads.
 */

/** One entry of the archive: its name and its bytes (a view into the archive, not a copy). */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

/** Whether `bytes` starts like a zip archive (local file header signature `PK\x03\x04`). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * The entries of a stored zip archive, by name.
 * @param source names the file in errors
 */
export function readStoredZip(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  const fail = (what: string): never => {
    throw new Error(`${source}: not a readable PyTorch zip archive (${what})`);
  };
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record; the file is truncated or not a zip');
  let count = u16(eocd + 10);
  let cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdOffset === MAX32) {
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== ZIP64_LOCATOR) fail('zip64 sizes without a zip64 locator');
    const z = u64(loc + 8);
    if (z + 56 > bytes.length || u32(z) !== ZIP64_EOCD) fail('broken zip64 end-of-central-directory record');
    count = u64(z + 32);
    cdOffset = u64(z + 48);
  }
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || u32(at) !== CENTRAL) fail(`central directory entry ${i} is damaged`);
    const method = u16(at + 10);
    let size = u32(at + 20);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let local = u32(at + 42);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLen));
    // zip64 extra field: the 8-byte values of the fields that hold 0xffffffff, in this order.
    const uncompressed32 = u32(at + 24);
    for (let e = at + 46 + nameLen; e + 4 <= at + 46 + nameLen + extraLen; ) {
      const id = u16(e);
      const len = u16(e + 2);
      if (id === 0x0001) {
        let p = e + 4;
        if (uncompressed32 === MAX32) p += 8;
        if (size === MAX32) {
          size = u64(p);
          p += 8;
        }
        if (local === MAX32) local = u64(p);
      }
      e += 4 + len;
    }
    if (method !== 0) fail(`entry "${name}" is compressed (method ${method}); torch.save stores entries uncompressed, so re-save the checkpoint with torch.save instead of re-zipping it`);
    if (local + 30 > bytes.length || u32(local) !== LOCAL) fail(`local header of "${name}" is damaged`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + size > bytes.length) fail(`entry "${name}" runs past the end of the file (truncated download?)`);
    entries.set(name, { name, data: bytes.subarray(start, start + size) });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
