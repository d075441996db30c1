import { dictionary } from '@plexus/profile';
import type { StoredConsent, StoredTrait } from '@plexus/storage';
import { foldConsent, foldTraits, mergeTraits, visibleTraits } from './trait-merge.js';

const NAMES = ['constructor', 'hasOwnProperty', '__defineGetter__', 'toString', 'valueOf', '__proto__'];

describe('trait merge with names that Object.prototype also has', () => {
  it('folds, merges and shows every name as an ordinary trait', () => {
    const traits = JSON.parse(`{${NAMES.map((n) => `"${n}":"v-${n}"`).join(',')}}`) as Record<string, string>;
    const into = dictionary<StoredTrait>();
    // A source priority list named like a prototype member must not be mistaken for one.
    foldTraits(into, traits, 'src-a', 1000, {}, JSON.parse('{"toString":["src-a"]}') as Record<string, string[]>);
    const other = dictionary<StoredTrait>();
    foldTraits(
      other,
      JSON.parse('{"constructor":"newer","__proto__":"newer"}') as Record<string, string>,
      'src-b',
      2000,
      {},
      {},
    );
    mergeTraits(into, other, {});
    const shown = visibleTraits(into, 3000);
    expect(Object.keys(shown).sort()).toEqual([...NAMES].sort());
    expect(shown['constructor' as string].value).toBe('newer');
    expect(Object.getOwnPropertyDescriptor(shown, '__proto__')?.value).toMatchObject({
      value: 'newer',
      sourceId: 'src-b',
    });
    expect(shown['toString' as string].value).toBe('v-toString');
  });

  it('keeps consent purposes own keys', () => {
    const into = dictionary<StoredConsent>();
    foldConsent(into, JSON.parse('{"constructor":true,"ads":false}') as Record<string, boolean>, 'src', 1);
    expect(Object.keys(into).sort()).toEqual(['ads', 'constructor']);
  });
});
