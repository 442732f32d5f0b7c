// The `@comfy-vast/core/clock` entry: time alone, for code (the VS Code extension) that must not load the
// library's storage and SSH modules with the main entry.
export { MAX_TIMER_DELAY, systemClock, sleep, type Clock, type TimerHandle } from './util/clock.js';
export { ManualClock } from './util/manual-clock.js';
