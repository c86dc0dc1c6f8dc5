import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';

/**
 * A minimal ustar writer (with pax headers for long names), so a release tarball is built the
 * same way on every machine: no system `tar` whose flags differ between GNU and BSD, fixed
 * owner (0:0), fixed modes and a fixed mtime, so equal content gives byte-equal tarballs.
 */

/** npm's own choice for packed files (1985-10-26T08:15:00Z): deterministic, yet not 1970. */
export const FIXED_MTIME = 499162500;

export interface TarEntry {
  /** Path inside the archive, `/`-separated; a directory's ends without a slash. */
  path: string;
  type: 'file' | 'dir';
  mode: number;
  size: number;
  /** The file to copy the bytes from (type 'file'). */
  source?: string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, mode: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(FIXED_MTIME, 12), 136, 12, 'ascii');
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

function pad(size: number): Buffer {
  const rest = size % 512;
  return Buffer.alloc(rest === 0 ? 0 : 512 - rest);
}

/** A pax extended header carrying `path`, for names ustar's 100 bytes cannot hold. */
function paxPath(path: string): Buffer {
  const body = ` path=${path}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  const record = Buffer.from(`${len}${body}`, 'utf8');
  return Buffer.concat([header('PaxHeader', record.length, 0o644, 'x'), record, pad(record.length)]);
}

/** Writes with backpressure; the caller's pipeline reports the stream's errors. */
function write(out: Writable, chunk: Buffer): Promise<void> {
  if (out.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => out.once('drain', resolve));
}

/** Writes `entries` (in the given order) as a tar stream onto `out`, then the end marker. */
export async function writeTar(out: Writable, entries: readonly TarEntry[]): Promise<void> {
  for (const e of entries) {
    const name = e.type === 'dir' ? `${e.path}/` : e.path;
    if (Buffer.byteLength(name) > 100) await write(out, paxPath(name));
    const size = e.type === 'file' ? e.size : 0;
    await write(out, header(name.slice(0, 100), size, e.mode, e.type === 'dir' ? '5' : '0'));
    if (e.type !== 'file') continue;
    let copied = 0;
    for await (const chunk of createReadStream(e.source as string)) {
      copied += (chunk as Buffer).length;
      if (copied > size) break;
      await write(out, chunk as Buffer);
    }
    // A file that changed size under us would corrupt every entry after it: refuse instead.
    if (copied !== size) throw new Error(`${e.source} changed while being archived`);
    await write(out, pad(size));
  }
  await write(out, Buffer.alloc(1024));
}
