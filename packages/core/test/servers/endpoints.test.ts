import { describe, expect, it } from 'vitest';
import { comfyUrlOf, sshEndpointOf, vastInstanceSchema } from '@comfy-vast/core';

const instance = (fields: Record<string, unknown>) => vastInstanceSchema.parse({ id: 1, public_ipaddr: ' 203.0.113.7\n', ssh_host: 'ssh5.vast.ai', ssh_port: 31000, ...fields });
const ports = { '22/tcp': [{ HostIp: '0.0.0.0', HostPort: '41022' }], '8188/tcp': [{ HostIp: '0.0.0.0', HostPort: '41188' }] };

describe('endpoints from ports', () => {
  it('builds the ComfyUI URL from the trimmed IP and the port mapped to 8188', () => {
    expect(comfyUrlOf(instance({ ports }))).toBe('http://203.0.113.7:41188');
    expect(comfyUrlOf(instance({}))).toBeNull();
  });

  it('uses direct SSH when 22 is mapped', () => {
    expect(sshEndpointOf(instance({ ports }))).toEqual({ host: '203.0.113.7', port: 41022, user: 'root' });
  });

  it('falls back to the proxy host, one port higher for jupyter runtypes', () => {
    expect(sshEndpointOf(instance({ image_runtype: 'ssh_proxy' }))).toEqual({ host: 'ssh5.vast.ai', port: 31000, user: 'root' });
    expect(sshEndpointOf(instance({ image_runtype: 'jupyter_proxy ssh_proxy' }))).toEqual({ host: 'ssh5.vast.ai', port: 31001, user: 'root' });
  });
});
