import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, until } from './helpers.js';
import { useVastProcesses } from './vast-processes.js';

const processes = useVastProcesses({ speed: 100 });

describe('the vast provider against a fake Vast.ai started separately', () => {
  it('provisions, and a server killed mid-generation completes it with its images after a restart', async () => {
    const first = processes.serve();
    const api = await processes.adminOf(first);
    const created = await api.createServer({ body: { name: 'GPU Server 1', gpu: 'RTX 4090', gpuCount: 1, location: 'US-East' } });
    await until(() => api.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched, 60_000);

    const started = await api.generate({ params: { serverId: created.id }, body: { prompt: 'survives a crash', parameters: { steps: 250 } } });
    await until(() => api.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'executing' && p.progress > 5);
    first.child.kill('SIGKILL');
    await first.exit;

    const second = processes.serve();
    const again = await processes.adminOf(second);
    const done = await until(() => again.getProgress({ params: { generationId: started.generationId } }), (p) => p.status !== 'executing' && p.status !== 'queued', 60_000);
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
    const [item] = await again.listGenerations({ params: { serverId: created.id } });
    expect(item!.imageUrls.length).toBeGreaterThan(0);
    const image = await fetch(`${await second.url}${item!.imageUrls[0]}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(image.headers.get('content-type')).toBe('image/png');

    await again.stopServer({ params: { id: created.id } });
    await until(() => again.getServer({ params: { id: created.id } }), (s) => s.status === 'stopped', 30_000);
    await again.startServer({ params: { id: created.id } });
    await until(() => again.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched, 60_000);
    await again.deleteServer({ params: { id: created.id } });
    expect(await again.listServers()).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 180_000);
});
