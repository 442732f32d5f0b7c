import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { eventOf, harness, messageLog, request, SERVER, USER, type Harness } from './setup.js';

let h: Harness;
const extra: FakeComfy[] = [];
afterEach(async () => {
  for (const comfy of extra.splice(0)) await comfy.close();
  await h?.cleanup();
});

const OTHER_SERVER = 11;
const portOf = (url: string) => Number(new URL(url).port);

/** Starts a generation that runs until interrupted, and waits until ComfyUI executes it. */
async function hanging(serverId = SERVER, comfy = h.comfy): Promise<number> {
  comfy.injectFault({ kind: 'hang' });
  const { generationId } = await h.service.generate(USER, serverId, request(2));
  await eventOf(h, generationId, 'progress', (e) => e.type === 'progress' && e.data.status === 'executing');
  return generationId;
}

describe('GenerationService after a crash and when ComfyUI goes away', () => {
  it('fails at start, without waiting, a generation whose server was deleted while the service was down', async () => {
    h = await harness();
    h.servers.set(OTHER_SERVER, { userId: USER, status: 'running' });
    const generationId = await hanging(OTHER_SERVER);
    await h.service.close();
    h.servers.delete(OTHER_SERVER);
    const service = await h.restart();
    expect(service.get(USER, generationId)).toMatchObject({ status: 'failed', error: { error: 'Generation lost', details: `Server ${OTHER_SERVER} is gone; its ComfyUI queue did not survive` } });
    expect(h.clock.fired).toBe(0);
  });

  it('fails at start a generation that its ComfyUI, restarted meanwhile, no longer knows', async () => {
    h = await harness();
    const generationId = await hanging();
    await h.service.close();
    await h.comfy.close();
    extra.push(await startFakeComfy({ port: portOf(h.comfy.url) }));
    const service = await h.restart();
    const error = await eventOf(h, generationId, 'error');
    expect(error.data).toMatchObject({ status: 'failed', error: 'Generation lost', details: expect.stringContaining('ComfyUI no longer knows this prompt') });
    expect(service.listActive(USER)).toEqual([]);
    expect(h.clock.fired).toBe(0);
  });

  it('fails a generation whose ComfyUI stops answering once the injected clock says it has been unreachable too long', async () => {
    const log = messageLog();
    h = await harness({}, { logger: log.logger, unreachableMs: 1000 });
    const generationId = await hanging();
    await h.service.close();
    await h.comfy.close();
    const unanswered = () => log.messages.filter((m) => m === 'Could not read the prompt state from ComfyUI').length;
    const service = await h.restart();
    await expect.poll(unanswered).toBe(1);
    expect(service.get(USER, generationId).status).toBe('executing');
    // Reads are retried with backoff: 500 ms, then 1 s; the second retry is past the 1 s limit.
    await h.clock.advance(500);
    await expect.poll(unanswered).toBe(2);
    expect(service.get(USER, generationId).status).toBe('executing');
    await h.clock.advance(1000);
    const error = await eventOf(h, generationId, 'error');
    expect(error.data).toMatchObject({ status: 'failed', error: 'Generation lost', details: expect.stringMatching(/^ComfyUI did not answer for 2 s \(Cannot reach ComfyUI at http:\/\/127\.0\.0\.1:\d+\)$/) });
  });

  it('follows a generation to the new address of its server’s ComfyUI', async () => {
    const log = messageLog();
    h = await harness({}, { logger: log.logger });
    const generationId = await hanging();
    await h.service.close();
    await h.comfy.close();
    const moved = await startFakeComfy();
    extra.push(moved);
    const service = await h.restart();
    await expect.poll(() => log.messages).toContain('Could not read the prompt state from ComfyUI');
    expect(service.get(USER, generationId).status).toBe('executing');
    h.servers.set(SERVER, { userId: USER, status: 'running', url: moved.url });
    await h.clock.advance(500);
    // The new ComfyUI was asked: it never saw the prompt.
    const error = await eventOf(h, generationId, 'error');
    expect(error.data).toMatchObject({ status: 'failed', details: expect.stringContaining('ComfyUI no longer knows this prompt') });
    expect(log.messages).toContain('The server’s ComfyUI moved; following the generation there');
  });

  it('fails a running generation at once when its server stops or is deleted', async () => {
    h = await harness();
    const other = await startFakeComfy({ timing: { speed: 50 } });
    extra.push(other);
    h.servers.set(OTHER_SERVER, { userId: USER, status: 'running', url: other.url });
    const stopped = await hanging();
    h.servers.set(SERVER, { userId: USER, status: 'stopped' });
    h.service.serverChanged(SERVER);
    expect((await eventOf(h, stopped, 'error')).data).toMatchObject({ status: 'failed', error: 'Generation lost', details: `Server ${SERVER} is not running (stopped); its ComfyUI queue did not survive` });
    const deleted = await hanging(OTHER_SERVER, other);
    h.servers.delete(OTHER_SERVER);
    h.service.serverChanged(OTHER_SERVER);
    expect((await eventOf(h, deleted, 'error')).data).toMatchObject({ details: `Server ${OTHER_SERVER} is gone; its ComfyUI queue did not survive` });
    expect(h.clock.fired).toBe(0);
  });

  it('cancels a generation whose ComfyUI does not answer: cancelled here, the failure only logged', async () => {
    const log = messageLog();
    h = await harness({}, { logger: log.logger });
    const generationId = await hanging();
    await h.comfy.close();
    const progress = await h.service.cancel(USER, generationId);
    expect(progress.status).toBe('cancelled');
    expect(h.service.get(USER, generationId)).toMatchObject({ status: 'cancelled', error: { error: 'Generation cancelled' } });
    expect((await eventOf(h, generationId, 'error')).data).toMatchObject({ status: 'cancelled' });
    expect(log.messages).toContain('ComfyUI did not take the cancel; the generation is cancelled here all the same');
    expect(h.service.listActive(USER)).toEqual([]);
  });
});
