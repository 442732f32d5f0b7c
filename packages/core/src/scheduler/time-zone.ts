/**
 * Wall-clock arithmetic in one IANA time zone with nothing but `Intl`, so results never depend on the
 * machine's own zone. A "wall" value is a local date and time written as if it were UTC milliseconds
 * (`Date.UTC(y, m - 1, d, h, min)`): days and minutes add to it without any zone rule getting in the way.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Memo of converted wall times per zone: the runner asks for the same few local times for thousands of servers. */
const WALL_MEMO_LIMIT = 50_000;

/** "11/27/2026, 14:05:09": `format` is about three times faster than `formatToParts`, so the text is parsed. */
const WALL_TEXT = /^(\d+)\/(\d+)\/(\d+)\D+(\d+):(\d+):(\d+)$/;

export class TimeZone {
  readonly name: string;
  #format: Intl.DateTimeFormat;
  #instants = new Map<number, number>();
  /** The last instant asked of `wallAt` and its answer: a replan asks for the same "now" once per server. */
  #lastInstant = NaN;
  #lastWall = NaN;

  /** Throws a RangeError when `Intl` does not know the zone. */
  constructor(name: string) {
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.name = this.#format.resolvedOptions().timeZone;
  }

  /** The local wall time at an instant, to the millisecond. */
  wallAt(instant: number): number {
    if (instant === this.#lastInstant) return this.#lastWall;
    const wall = this.#wallOf(instant);
    this.#lastInstant = instant;
    this.#lastWall = wall;
    return wall;
  }

  #wallOf(instant: number): number {
    const seconds = Math.floor(instant / 1000) * 1000;
    const m = WALL_TEXT.exec(this.#format.format(seconds));
    if (!m) throw new RangeError(`Unexpected date text for ${this.name}`);
    const [, month, day, year, hour, minute, second] = m.map(Number) as number[];
    return Date.UTC(year!, month! - 1, day!, hour!, minute!, second!) + (instant - seconds);
  }

  /** Milliseconds to add to UTC to get local time at an instant. */
  offsetAt(instant: number): number {
    return this.wallAt(instant) - instant;
  }

  /**
   * The instant a wall time happens. When it happens twice (the hour repeated when clocks go back) this is the
   * first; when it never happens (the hour skipped when clocks go forward) this is the first instant after the gap.
   */
  instantOf(wall: number): number {
    let instant = this.#instants.get(wall);
    if (instant === undefined) {
      instant = this.#resolve(wall);
      if (this.#instants.size >= WALL_MEMO_LIMIT) this.#instants.clear();
      this.#instants.set(wall, instant);
    }
    return instant;
  }

  #resolve(wall: number): number {
    // A zone changes offset at most once within a day either side of any instant, so the offsets a day
    // before and a day after are the only two candidates.
    const before = this.offsetAt(wall - DAY_MS);
    const after = this.offsetAt(wall + DAY_MS);
    if (before === after) return wall - before;
    const matches = [wall - before, wall - after].filter((t) => this.wallAt(t) === wall);
    if (matches.length > 0) return Math.min(...matches);
    return this.#transitionBetween(wall - after, wall - before, after);
  }

  /** The first instant in (low, high] whose offset is `target`, found by bisection to the second. */
  #transitionBetween(low: number, high: number, target: number): number {
    while (high - low > 1000) {
      const mid = low + Math.floor((high - low) / 2000) * 1000;
      if (this.offsetAt(mid) === target) high = mid;
      else low = mid;
    }
    return high;
  }
}

/** The `TimeZone`s of one owner, each built once: building an `Intl.DateTimeFormat` costs far more than using it. */
export class TimeZones {
  #zones = new Map<string, TimeZone>();

  get(name: string): TimeZone {
    let zone = this.#zones.get(name);
    if (!zone) {
      zone = new TimeZone(name);
      this.#zones.set(name, zone);
    }
    return zone;
  }
}

/** True when `Intl` knows the zone (IANA names and their aliases, `UTC`). */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The local calendar day of a wall time, counted from 1970-01-01. */
export function dayOfWall(wall: number): number {
  return Math.floor(wall / DAY_MS);
}

/** ISO weekday of a day number: 1 Monday .. 7 Sunday (1970-01-01 was a Thursday). */
export function isoWeekday(day: number): number {
  return (((day + 3) % 7) + 7) % 7 + 1;
}
