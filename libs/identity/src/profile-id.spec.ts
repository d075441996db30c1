import { newProfileId } from './profile-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newProfileId', () => {
  it('is a version 7 UUID carrying the time in ms', () => {
    const at = Date.UTC(2026, 10, 29, 2, 30, 0, 123);
    const id = newProfileId(at);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by creation time and does not repeat', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => newProfileId(1_800_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10) expect(ids[i - 10] < ids[i]).toBe(true);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });
});
