export { MAX_TIMER_DELAY, systemClock, sleep, type Clock, type TimerHandle } from './clock.js';
export { ManualClock } from './manual-clock.js';
export { silentLogger, type Logger } from './logger.js';
