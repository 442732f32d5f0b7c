import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes 8-bit RGB pixels as a PNG, with `tEXt` chunks (ComfyUI stores `prompt` and `workflow` this way). */
export function encodePng(width: number, height: number, rgb: Uint8Array, text: Record<string, string> = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const texts = Object.entries(text).map(([k, v]) => chunk('tEXt', Buffer.from(`${k}\0${v}`, 'latin1')));
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), ...texts, chunk('IDAT', deflateSync(raw, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

/** A smooth picture whose colours derive from `key`: the same key always gives the same bytes. */
export function renderPicture(key: string, width: number, height: number): Uint8Array {
  const h = createHash('sha256').update(key).digest();
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const u = x / Math.max(1, width - 1);
      const v = y / Math.max(1, height - 1);
      rgb[o] = (h[0]! * (1 - u) + h[1]! * u) & 0xff;
      rgb[o + 1] = (h[2]! * (1 - v) + h[3]! * v) & 0xff;
      rgb[o + 2] = (h[4]! + ((u + v) * h[5]!) / 2) & 0xff;
    }
  }
  return rgb;
}

/** The `tEXt` chunks of a PNG, by keyword: ComfyUI keeps the API prompt and the UI workflow there. */
export function readPngText(png: Buffer): Record<string, string> {
  const text: Record<string, string> = {};
  for (let at = SIGNATURE.length; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'tEXt') {
      const data = png.toString('latin1', at + 8, at + 8 + length);
      const nul = data.indexOf('\0');
      text[data.slice(0, nul)] = data.slice(nul + 1);
    }
    at += 12 + length;
  }
  return text;
}
