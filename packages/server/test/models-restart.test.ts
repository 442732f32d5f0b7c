import { describe, expect, it } from 'vitest';
import { until } from './helpers.js';
import { useVastProcesses } from './vast-processes.js';

// A model download outlives a crash of the API server: the job runs on in the fake instance's SSH host, and the next
// process re-attaches to it from the stored record instead of starting another.
// Twenty progress lines 200 ms apart: a download takes about four seconds.
const processes = useVastProcesses({ speed: 100, sshHosts: { tickMs: 20_000 } });

describe('a model download across a crash of the API server', () => {
  it('is re-attached to its remote job after the restart, and completes without a second job', async () => {
    const first = processes.serve();
    const api = await processes.adminOf(first);
    const created = await api.createServer({ body: { name: 'GPU Server 1', gpu: 'RTX 4090', gpuCount: 1 } });
    const running = await until(() => api.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched, 60_000);
    const host = processes.vast.ssh(Number(running.vastId))!.host;

    const started = await api.downloadModel({ params: { serverId: created.id }, body: { url: 'https://huggingface.co/model1.safetensors', folder: 'checkpoints', filename: 'model1.safetensors' } });
    await until(() => api.getDownload({ params: { downloadId: started.downloadId } }), (d) => d.status === 'downloading' && d.progress > 5);
    first.child.kill('SIGKILL');
    await first.exit;

    const second = processes.serve();
    const again = await processes.adminOf(second);
    const done = await until(() => again.getDownload({ params: { downloadId: started.downloadId } }), (d) => d.status !== 'downloading' && d.status !== 'queued', 60_000);
    expect(done).toMatchObject({ status: 'completed', progress: 100, downloadedBytes: 64 * 1024 * 1024 });
    const jobs = host.snapshot().jobs.filter((job) => job.kind === 'download');
    expect(jobs).toHaveLength(1);
    expect(host.models.get('checkpoints/model1.safetensors')).toMatchObject({ partial: false, bytes: 64 * 1024 * 1024 });
    second.child.kill('SIGTERM');
    await second.exit;
  }, 120_000);
});
