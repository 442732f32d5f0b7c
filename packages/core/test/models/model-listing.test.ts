import { describe, expect, it } from 'vitest';
import { buildModelListing } from '../../src/models/model-listing.js';

describe('buildModelListing', () => {
  const comfy = { checkpoints: ['sd_xl_base_1.0.safetensors', 'sub/inner.safetensors'], vae: [], custom_nodes: ['x.py'] };

  it('gives ComfyUI’s files their sizes, and shows partial and queued downloads as not downloaded', () => {
    const listing = buildModelListing({
      comfy,
      files: [
        { folder: 'checkpoints', name: 'sd_xl_base_1.0.safetensors', bytes: 6_938_078_334, partial: false },
        { folder: 'checkpoints', name: 'sub/inner.safetensors', bytes: 2_000, partial: false },
        { folder: 'vae', name: 'half.safetensors', bytes: 1_234, partial: true },
        { folder: 'vae', name: 'stray.safetensors', bytes: 99, partial: true },
      ],
      pending: [
        { folder: 'vae', filename: 'half.safetensors', totalBytes: 334_640_988 },
        { folder: 'loras', filename: 'queued.safetensors', totalBytes: null },
      ],
      modelsDir: '/workspace/ComfyUI/models',
    });
    expect(listing).toEqual({
      checkpoints: [
        { name: 'sd_xl_base_1.0.safetensors', size: '6.94 GB', bytes: 6_938_078_334, downloaded: true, path: '/workspace/ComfyUI/models/checkpoints/' },
        { name: 'sub/inner.safetensors', size: '2.00 KB', bytes: 2_000, downloaded: true, path: '/workspace/ComfyUI/models/checkpoints/' },
      ],
      vae: [
        { name: 'half.safetensors', size: '335 MB', bytes: 334_640_988, downloaded: false, path: '/workspace/ComfyUI/models/vae/' },
        { name: 'stray.safetensors', size: 'unknown', bytes: null, downloaded: false, path: '/workspace/ComfyUI/models/vae/' },
      ],
      loras: [{ name: 'queued.safetensors', size: 'unknown', bytes: null, downloaded: false, path: '/workspace/ComfyUI/models/loras/' }],
    });
  });

  it('lists an attached ComfyUI’s files from ComfyUI alone, sizes unknown and paths relative', () => {
    expect(buildModelListing({ comfy, files: null, pending: [], modelsDir: null })).toEqual({
      checkpoints: [
        { name: 'sd_xl_base_1.0.safetensors', size: 'unknown', bytes: null, downloaded: true, path: 'models/checkpoints/' },
        { name: 'sub/inner.safetensors', size: 'unknown', bytes: null, downloaded: true, path: 'models/checkpoints/' },
      ],
      vae: [],
    });
  });
});
