export * from './fake-vast/index.js';
export * from './fake-comfy/index.js';
export * from './fake-ssh/index.js';
