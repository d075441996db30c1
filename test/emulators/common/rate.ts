/** Counts requests in a rolling window (HubSpot's TEN_SECONDLY_ROLLING, SECONDLY). */
export class RollingWindow {
  private readonly stamps: number[] = [];
  private head = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  private prune(now: number): void {
    while (this.head < this.stamps.length && this.stamps[this.head] <= now - this.windowMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Requests counted in the window ending at `now`. */
  used(now = Date.now()): number {
    this.prune(now);
    let end = this.stamps.length;
    while (end > this.head && this.stamps[end - 1] > now) end--; // counted later, arrived after `now`
    return end - this.head;
  }

  remaining(now = Date.now()): number {
    return Math.max(0, this.max - this.used(now));
  }

  /**
   * Takes one request from the budget; false when the window is full. `now` may be a little older than a time
   * given before (a request counted when it arrived, handled after a later one): the log stays in time order.
   */
  tryTake(now = Date.now()): boolean {
    if (this.used(now) >= this.max) return false;
    let at = this.stamps.length;
    while (at > this.head && this.stamps[at - 1] > now) at--;
    this.stamps.splice(at, 0, now);
    return true;
  }
}

/** Shopify's leaky bucket: `capacity` requests, draining `leakPerSecond`. */
export class LeakyBucket {
  private level = 0;
  private last = Date.now();

  constructor(
    readonly capacity: number,
    readonly leakPerSecond: number,
  ) {}

  current(now = Date.now()): number {
    this.level = Math.max(0, this.level - ((now - this.last) / 1000) * this.leakPerSecond);
    this.last = now;
    return this.level;
  }

  /** Adds one request; false (and nothing added) when the bucket is full. */
  tryAdd(now = Date.now()): boolean {
    if (this.current(now) + 1 > this.capacity) return false;
    this.level += 1;
    return true;
  }
}
