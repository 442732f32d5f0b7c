import { describe, expect, it } from 'vitest';
import { tokenFor } from '../../src/models/credentials.js';
import { formatBytes, formatDuration, formatSpeed } from '../../src/models/format.js';
import { ProgressMeter } from '../../src/models/progress-meter.js';

describe('download figures', () => {
  it('formats speed, time left and sizes as the API shows them', () => {
    expect(formatSpeed(10_500_000)).toBe('10.5 MB/s');
    expect(formatSpeed(812_000)).toBe('812.0 KB/s');
    expect(formatDuration(392)).toBe('6m 32s');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(3_900)).toBe('1h 5m');
    expect(formatBytes(6_938_078_334)).toBe('6.94 GB');
    expect(formatBytes(334_000_000)).toBe('334 MB');
    expect(formatBytes(12_345)).toBe('12.3 KB');
    expect(formatBytes(999_600)).toBe('1.00 MB');
    expect(formatBytes(512)).toBe('512 B');
  });

  it('measures speed over the last seconds and the time left at that speed', () => {
    const meter = new ProgressMeter();
    expect(meter.bytesPerSecond).toBeNull();
    meter.add(0, 0);
    meter.add(1_000, 10_500_000);
    expect(meter.bytesPerSecond).toBe(10_500_000);
    expect(formatDuration(meter.secondsLeft(10_500_000 + 392 * 10_500_000)!)).toBe('6m 32s');
    // A slower stretch longer than the window replaces the early burst.
    for (let t = 2_000; t <= 30_000; t += 1_000) meter.add(t, 10_500_000 + (t - 1_000) * 1_000);
    expect(meter.bytesPerSecond).toBe(1_000_000);
    // A restart from zero (a download started over) starts the measure over.
    meter.add(31_000, 0);
    expect(meter.bytesPerSecond).toBeNull();
  });
});

describe('tokenFor', () => {
  const credentials = { huggingface: 'hf_token', civitai: 'civitai_token' };

  it('gives each token to its own host only, over https', () => {
    expect(tokenFor('https://huggingface.co/a/b/resolve/main/x.safetensors', credentials)).toBe('hf_token');
    expect(tokenFor('https://cdn-lfs.huggingface.co/x', credentials)).toBe('hf_token');
    expect(tokenFor('https://civitai.com/api/download/models/1', credentials)).toBe('civitai_token');
    for (const url of ['https://evil-huggingface.co/x', 'https://huggingface.co.evil.com/x', 'http://huggingface.co/x', 'https://example.com/?huggingface.co', 'https://github.com/x'])
      expect(tokenFor(url, credentials)).toBeUndefined();
  });
});
