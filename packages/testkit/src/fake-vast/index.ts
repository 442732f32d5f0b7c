export { startFakeVast, type FakeVast, type FakeVastOptions, type InjectedResponse, type StartComfy } from './fake-vast.js';
export { defaultCatalogue, type FakeOffer } from './catalogue.js';
export { FAKE_VAST_INTERVALS_MS, type FakeVastEndpoint } from './rate-limits.js';
