import { describe, expect, it } from 'vitest';
import { statusFromVast, vastInstanceSchema, type ServerStatus } from '@comfy-vast/core';

const instance = (fields: Record<string, unknown>) => vastInstanceSchema.parse({ id: 1, ...fields });

describe('the status table', () => {
  it.each<[string, Record<string, unknown>, ServerStatus | undefined, ServerStatus]>([
    ['intended destroyed', { intended_status: 'destroyed', actual_status: 'running' }, 'running', 'deleted'],
    ['running as intended', { intended_status: 'running', actual_status: 'running', cur_state: 'running' }, 'creating', 'running'],
    ['loading on first boot', { intended_status: 'running', actual_status: 'loading' }, 'creating', 'creating'],
    ['not provisioned yet', { intended_status: 'running', actual_status: null }, undefined, 'creating'],
    ['created, not provisioned', { intended_status: 'running', actual_status: 'created' }, 'creating', 'creating'],
    ['loading after a stop', { intended_status: 'running', actual_status: 'loading' }, 'stopped', 'starting'],
    ['waiting for its GPU after a start', { intended_status: 'running', actual_status: 'stopped' }, 'starting', 'starting'],
    ['rebooting', { intended_status: 'running', actual_status: 'rebooting' }, 'starting', 'starting'],
    ['still running after a stop', { intended_status: 'stopped', actual_status: 'running' }, 'running', 'stopping'],
    ['stopped', { intended_status: 'stopped', actual_status: 'stopped', cur_state: 'stopped' }, 'stopping', 'stopped'],
    ['stopped, container reported exited', { intended_status: 'stopped', actual_status: 'exited' }, 'stopping', 'stopped'],
    ['frozen', { intended_status: 'frozen', actual_status: 'frozen' }, 'running', 'stopping'],
    ['exited while meant to run', { intended_status: 'running', actual_status: 'exited' }, 'running', 'error'],
    ['no heartbeat', { intended_status: 'running', actual_status: 'unknown' }, 'running', 'error'],
    ['host offline', { intended_status: 'stopped', actual_status: 'offline' }, 'stopped', 'error'],
    ['error in status_msg while loading', { intended_status: 'running', actual_status: 'loading', status_msg: 'Error response from daemon: OCI runtime create failed' }, 'creating', 'error'],
  ])('%s', (_, fields, previous, expected) => {
    expect(statusFromVast(instance(fields), previous).status).toBe(expected);
  });

  it('maps a missing instance to deleted', () => {
    expect(statusFromVast(null, 'running')).toEqual({ status: 'deleted', reason: 'The instance no longer exists on Vast.ai' });
  });

  it('gives the reason for an error', () => {
    expect(statusFromVast(instance({ intended_status: 'running', actual_status: 'exited', status_msg: 'exit code 137' })).reason).toBe('The container exited: exit code 137');
    expect(statusFromVast(instance({ actual_status: 'loading', status_msg: 'failed to pull image' })).reason).toBe('failed to pull image');
  });

  it('ignores error words in the message of a running container', () => {
    expect(statusFromVast(instance({ intended_status: 'running', actual_status: 'running', status_msg: 'recovered from error' })).status).toBe('running');
  });
});
