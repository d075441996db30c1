import { RollingWindow } from './rate.js';

describe('RollingWindow', () => {
  it('admits at most max requests in any window of windowMs', () => {
    const window = new RollingWindow(2, 1_000);
    expect(window.tryTake(1_000)).toBe(true);
    expect(window.tryTake(1_990)).toBe(true);
    expect(window.tryTake(1_995)).toBe(false);
    expect(window.tryTake(2_000)).toBe(true); // 1,000 has left the window ending at 2,000
    expect(window.used(2_000)).toBe(2);
  });

  it('counts a request at the time it is given, even one older than a request counted before', () => {
    const window = new RollingWindow(2, 1_000);
    expect(window.tryTake(100)).toBe(true);
    expect(window.tryTake(1_150)).toBe(true);
    // Arrived at 1,120, handled after the one of 1,150: the window ending at 1,120 holds nothing but itself.
    expect(window.tryTake(1_120)).toBe(true);
    expect(window.used(1_149)).toBe(1);
    expect(window.tryTake(1_200)).toBe(false);
    expect(window.tryTake(2_121)).toBe(true);
  });
});
