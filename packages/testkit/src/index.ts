export * from './fake-vast/index.js';
export * from './fake-comfy/index.js';
