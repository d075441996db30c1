import { encodeTcCore } from '../../../test/tracking/tc-string.js';
import { consentFromTcString, decodeTcString, TCF_PURPOSE_MAP } from './tcf.util.js';

describe('TCF v2 decoding', () => {
  it('reads the purpose consents at bit 152 of the core segment', () => {
    const tc = encodeTcCore([1, 3, 4, 9, 10]);
    expect(tc.startsWith('C')).toBe(true);
    const decoded = decodeTcString(`${tc}.YAAAAAAAAAAA`);
    expect(decoded?.version).toBe(2);
    expect([...decoded!.purposes].sort((a, b) => a - b)).toEqual([1, 3, 4, 9, 10]);
  });

  it('maps purposes to our consent purposes: every purpose needed must be consented', () => {
    expect(consentFromTcString(encodeTcCore([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toEqual({
      ads: true,
      personalization: true,
      analytics: true,
    });
    expect(consentFromTcString(encodeTcCore([1, 3, 8, 9]))).toEqual({
      ads: false,
      personalization: false,
      analytics: true,
    });
    expect(consentFromTcString(encodeTcCore([]))).toEqual({ ads: false, personalization: false, analytics: false });
    expect(TCF_PURPOSE_MAP.ads).toEqual([1, 3, 4]);
  });

  it('refuses strings that are not TCF v2', () => {
    expect(decodeTcString(encodeTcCore([1], 1))).toBeUndefined();
    expect(decodeTcString('not a tc string!')).toBeUndefined();
    expect(decodeTcString('CAAA')).toBeUndefined();
    expect(consentFromTcString('garbage')).toEqual({});
  });
});
