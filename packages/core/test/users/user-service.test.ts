import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryStore, UserService, hashToken, hashesEqual, generateToken } from '@comfy-vast/core';

describe('tokens', () => {
  it('are 256 random bits and stored only as sha256 hashes', async () => {
    const token = generateToken();
    expect(Buffer.from(token.slice(3), 'base64url')).toHaveLength(32);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    // The SHA-256 of the token's UTF-8 bytes, as stored since the first release: stored tokens keep working.
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('cv_é')).toBe(createHash('sha256').update(Buffer.from('cv_é', 'utf8')).digest('hex'));
    const store = new MemoryStore();
    const users = new UserService({ store, clock: new ManualClock(0) });
    const { token: issued } = await users.createUser('alice');
    const stored = JSON.stringify(store.collection({ name: 'tokens', schema: (await import('@comfy-vast/core')).TokenRecord }).all());
    expect(stored).not.toContain(issued.token);
    expect(stored).toContain(hashToken(issued.token));
  });

  it('compare in constant time and refuse digests of another length', () => {
    const a = hashToken('a');
    expect(hashesEqual(a, a)).toBe(true);
    expect(hashesEqual(a, hashToken('b'))).toBe(false);
    expect(hashesEqual(a, a.slice(0, 62))).toBe(false);
    expect(hashesEqual('', '')).toBe(false);
  });
});

describe('UserService', () => {
  it('bootstraps the admin once, with a generated token only when none is configured', async () => {
    const users = new UserService({ store: new MemoryStore(), clock: new ManualClock(0) });
    const first = await users.ensureAdmin();
    expect(first.generatedToken).toMatch(/^cv_/);
    expect(users.authenticate(first.generatedToken!)?.role).toBe('admin');
    const again = await users.ensureAdmin();
    expect(again.generatedToken).toBeNull();
  });

  it('replaces an earlier configured admin token when the setting changes', async () => {
    const users = new UserService({ store: new MemoryStore(), clock: new ManualClock(0) });
    await users.ensureAdmin('configured-token-one-0123456789abcdef');
    await users.ensureAdmin('configured-token-two-0123456789abcdef');
    expect(users.authenticate('configured-token-one-0123456789abcdef')).toBeNull();
    expect(users.authenticate('configured-token-two-0123456789abcdef')?.role).toBe('admin');
  });

  it('authenticates issued tokens and forgets revoked ones', async () => {
    const users = new UserService({ store: new MemoryStore(), clock: new ManualClock(0) });
    const { user, token } = await users.createUser('bob');
    expect(users.authenticate(token.token)?.id).toBe(user.id);
    expect(users.authenticate(token.token + 'x')).toBeNull();
    await users.revokeToken(user.id, token.id);
    expect(users.authenticate(token.token)).toBeNull();
    await expect(users.revokeToken(user.id, token.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
