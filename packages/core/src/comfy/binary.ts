import { previewMetadataSchema } from './schemas.js';

/** A decoded binary WebSocket frame (reference §2.4). */
export type ComfyBinaryFrame =
  | { kind: 'preview'; mime: string; image: Buffer; nodeId?: string; promptId?: string }
  | { kind: 'text'; nodeId: string; text: string }
  | { kind: 'unknown'; eventType: number };

const FORMATS: Record<number, string> = { 1: 'image/jpeg', 2: 'image/png' };

/** Decodes a binary frame: type 1 (preview), 3 (progress text) and 4 (preview with metadata). */
export function decodeBinaryFrame(frame: Buffer): ComfyBinaryFrame {
  if (frame.length < 8) return { kind: 'unknown', eventType: frame.length >= 4 ? frame.readUInt32BE(0) : -1 };
  const eventType = frame.readUInt32BE(0);
  const field = frame.readUInt32BE(4);
  switch (eventType) {
    case 1:
      return { kind: 'preview', mime: FORMATS[field] ?? sniff(frame.subarray(8)), image: frame.subarray(8) };
    case 3:
      return { kind: 'text', nodeId: frame.subarray(8, 8 + field).toString('utf8'), text: frame.subarray(8 + field).toString('utf8') };
    case 4: {
      let meta: ReturnType<typeof previewMetadataSchema.parse> = {};
      try {
        meta = previewMetadataSchema.parse(JSON.parse(frame.subarray(8, 8 + field).toString('utf8')));
      } catch {
        return { kind: 'unknown', eventType };
      }
      const image = frame.subarray(8 + field);
      return { kind: 'preview', mime: meta.image_type ?? sniff(image), image, nodeId: meta.node_id, promptId: meta.prompt_id };
    }
    default:
      return { kind: 'unknown', eventType };
  }
}

export function toDataUrl(mime: string, image: Buffer): string {
  return `data:${mime};base64,${image.toString('base64')}`;
}

function sniff(image: Buffer): string {
  if (image[0] === 0x89 && image[1] === 0x50) return 'image/png';
  if (image[0] === 0xff && image[1] === 0xd8) return 'image/jpeg';
  return 'application/octet-stream';
}
