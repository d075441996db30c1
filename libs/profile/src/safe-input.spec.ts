import {
  dictionary,
  findUnstorableInput,
  ownValue,
  storableCopy,
  toDictionary,
  unstorableStringProblem,
} from './safe-input.js';

describe('dictionaries for names clients choose', () => {
  it('treats Object.prototype names as ordinary keys', () => {
    const parsed = JSON.parse('{"__proto__":{"x":1},"constructor":"c","toString":"t"}') as Record<string, unknown>;
    const d = toDictionary(parsed);
    expect(Object.getPrototypeOf(d)).toBeNull();
    expect(Object.keys(d)).toEqual(['__proto__', 'constructor', 'toString']);
    d.__proto__ = 'replaced';
    expect(Object.getOwnPropertyDescriptor(d, '__proto__')?.value).toBe('replaced');
    expect(JSON.parse(JSON.stringify(d))).toEqual(
      JSON.parse('{"__proto__":"replaced","constructor":"c","toString":"t"}'),
    );
    const empty = dictionary<number>();
    expect(empty.constructor).toBeUndefined();
    expect(ownValue({}, 'constructor')).toBeUndefined();
    expect(ownValue({ hasOwnProperty: 1 }, 'hasOwnProperty')).toBe(1);
  });
});

describe('findUnstorableInput', () => {
  it('names the field holding a NUL or a lone surrogate, in values and in keys', () => {
    expect(findUnstorableInput({ a: { b: ['ok', 'x\u0000'] } })).toEqual({
      field: 'a.b[1]',
      problem: 'contains a NUL character (\\u0000)',
    });
    expect(findUnstorableInput({ name: 'a\ud800' })?.field).toBe('name');
    expect(findUnstorableInput({ ['k\udc00']: 1 })).toEqual({
      field: 'k\udc00',
      problem: expect.stringMatching(/^has a name that contains a lone UTF-16 surrogate/),
    });
    expect(findUnstorableInput('\u0000', 'id')).toEqual({ field: 'id', problem: expect.stringMatching(/NUL/) });
    // A pair is one character (an emoji), not a problem.
    expect(findUnstorableInput({ note: 'ok \ud83d\ude00', n: 1, b: true, z: null })).toBeUndefined();
    expect(unstorableStringProblem('\udc00\ud800')).toMatch(/surrogate/);
  });

  it('refuses nesting deeper than the limit without recursing (100,000 levels)', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(findUnstorableInput({ batch: deep })).toEqual({
      field: `batch${'[0]'.repeat(63)}`,
      problem: 'is nested more than 64 levels deep',
    });
    expect(findUnstorableInput(JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`))).toBeUndefined();
  });

  it('storableCopy keeps refused input as evidence that PostgreSQL accepts', () => {
    const copy = storableCopy({ ['a\u0000']: 'b\ud800', deep: JSON.parse('[[[1]]]') }, 2);
    expect(JSON.parse(JSON.stringify(copy))).toEqual({ 'a\ufffd': 'b\ufffd', deep: ['[nested too deep]'] });
    expect(findUnstorableInput(copy)).toBeUndefined();
  });
});
