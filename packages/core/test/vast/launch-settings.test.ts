import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InstallationKeys, buildLaunchSettings, generateWebPassword, parseServerLabel, serverLabel } from '@comfy-vast/core';

describe('launch settings', () => {
  const settings = buildLaunchSettings({ serverId: 42, disk: 80, webPassword: 'secret-pw' }, { env: { HF_TOKEN: 'hf' } });

  it('maps SSH, the portal and ComfyUI as -p keys of an env object, with the password and a portal listing ComfyUI', () => {
    expect(settings.env).toMatchObject({ '-p 22:22': '1', '-p 1111:1111': '1', '-p 8188:8188': '1', WEB_PASSWORD: 'secret-pw', HF_TOKEN: 'hf' });
    expect(settings.env.PORTAL_CONFIG!.split('|')).toContain('localhost:8188:18188:/:ComfyUI');
  });

  it('uses a direct SSH runtype, runs the image entrypoint and labels the instance', () => {
    expect(settings).toMatchObject({ image: 'vastai/comfy:@vastai-automatic-tag', disk: 80, onstart: 'entrypoint.sh', label: 'comfy-vast:42' });
    expect(settings.runtype).toMatch(/ssh_direc/);
  });

  it('reads our labels back and ignores others', () => {
    expect(parseServerLabel(serverLabel(7))).toBe(7);
    expect(parseServerLabel('my box')).toBeNull();
    expect(parseServerLabel('comfy-vast:abc')).toBeNull();
    expect(parseServerLabel(null)).toBeNull();
  });

  it('makes a different password for every server', () => {
    const a = generateWebPassword();
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(generateWebPassword()).not.toBe(a);
  });
});

describe('InstallationKeys', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates one ed25519 pair with a 0600 private key and returns the same one afterwards', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keys-'));
    const keys = new InstallationKeys(join(dir, 'data'));
    const first = await keys.load();
    expect(first.publicKey).toMatch(/^ssh-ed25519 \S+/);
    expect((await stat(first.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(first.privateKeyPath, 'utf8')).toContain('PRIVATE KEY');
    expect(await new InstallationKeys(join(dir, 'data')).load()).toEqual(first);
  });
});
