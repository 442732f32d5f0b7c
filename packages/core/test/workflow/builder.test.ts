import { describe, expect, it } from 'vitest';
import { ComfyVastError, UiWorkflowBuilder, parseWorkflow, toApiPrompt } from '@comfy-vast/core';

describe('UiWorkflowBuilder', () => {
  it('writes a UI workflow whose sockets follow the node definitions', () => {
    const b = new UiWorkflowBuilder();
    const image = b.add('EmptyImage', [64, 64, 1, 0]);
    const steps = b.add('PrimitiveInt', [8, 'fixed']);
    const save = b.add('SaveImage', ['t'], { title: 'Out' });
    b.connect(image, 0, save, 'images');
    b.connect(steps, 0, image, 'width');
    const workflow = b.build();
    expect(parseWorkflow(workflow).format).toBe('ui');
    expect(workflow.nodes[0]!.inputs).toEqual([{ name: 'width', type: 'INT', link: 2, widget: { name: 'width' } }]);
    expect(toApiPrompt(workflow).prompt).toEqual({
      '1': { class_type: 'EmptyImage', inputs: { width: ['2', 0], height: 64, batch_size: 1, color: 0 }, _meta: { title: 'EmptyImage' } },
      '2': { class_type: 'PrimitiveInt', inputs: { value: 8 }, _meta: { title: 'Int' } },
      '3': { class_type: 'SaveImage', inputs: { filename_prefix: 't', images: ['1', 0] }, _meta: { title: 'Out' } },
    });
  });

  it('names the node and socket of a bad connection', () => {
    const b = new UiWorkflowBuilder();
    const save = b.add('SaveImage', ['t']);
    const image = b.add('EmptyImage', [64, 64, 1, 0]);
    const fail = (action: () => unknown): ComfyVastError => {
      try {
        action();
      } catch (error) {
        if (error instanceof ComfyVastError) return error;
      }
      throw new Error('expected a ComfyVastError');
    };
    expect(fail(() => b.connect(image, 0, save, 'nope')).details).toEqual({ nodeId: '1', field: 'nope' });
    expect(fail(() => b.connect(save, 0, image, 'width')).details).toEqual({ nodeId: '1', field: 'outputs.0' });
    expect(fail(() => b.connect(image, 0, 9, 'images')).code).toBe('WORKFLOW_INVALID');
  });
});
