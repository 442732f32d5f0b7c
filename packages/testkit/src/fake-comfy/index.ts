export { startFakeComfy, type FakeComfy, type FakeComfyOptions } from './fake-comfy.js';
