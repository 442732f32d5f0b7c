import { describe, expect, it } from 'vitest';
import { decodeBinaryFrame, toDataUrl } from '@comfy-vast/core';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

describe('binary socket frames', () => {
  it('decodes a type-1 preview with its format field', () => {
    expect(decodeBinaryFrame(Buffer.concat([u32(1), u32(1), jpeg]))).toEqual({ kind: 'preview', mime: 'image/jpeg', image: jpeg });
  });

  it('decodes a type-3 text frame as recorded (node "2", "probe progress text")', () => {
    // The recorded frame: 00000003 00000001 32 "probe progress text".
    const frame = Buffer.concat([Buffer.from('000000030000000132', 'hex'), Buffer.from('probe progress text')]);
    expect(decodeBinaryFrame(frame)).toEqual({ kind: 'text', nodeId: '2', text: 'probe progress text' });
  });

  it('decodes a type-4 preview with its metadata', () => {
    const meta = Buffer.from(JSON.stringify({ node_id: '2', prompt_id: 'p1', display_node_id: '2', parent_node_id: null, real_node_id: '2', image_type: 'image/jpeg' }));
    const frame = Buffer.concat([u32(4), u32(meta.length), meta, jpeg]);
    expect(decodeBinaryFrame(frame)).toEqual({ kind: 'preview', mime: 'image/jpeg', image: jpeg, nodeId: '2', promptId: 'p1' });
    expect(toDataUrl('image/jpeg', jpeg)).toBe(`data:image/jpeg;base64,${jpeg.toString('base64')}`);
  });

  it('reports other and truncated frames as unknown', () => {
    expect(decodeBinaryFrame(Buffer.concat([u32(9), u32(0)]))).toEqual({ kind: 'unknown', eventType: 9 });
    expect(decodeBinaryFrame(Buffer.from([0, 0]))).toEqual({ kind: 'unknown', eventType: -1 });
  });
});
