/** Writes a TCF v2 core segment field by field (the IAB layout), independently of the decoder. */
export function encodeTcCore(purposes: number[], version = 2): string {
  const bits: number[] = [];
  const put = (value: number, width: number): void => {
    for (let i = width - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) % 2);
  };
  const deciseconds = Math.floor(Date.UTC(2026, 4, 1) / 100);
  put(version, 6);
  put(deciseconds, 36); // Created
  put(deciseconds, 36); // LastUpdated
  put(300, 12); // CmpId
  put(2, 12); // CmpVersion
  put(1, 6); // ConsentScreen
  put(('E'.charCodeAt(0) - 65) * 64 + ('N'.charCodeAt(0) - 65), 12); // ConsentLanguage
  put(150, 12); // VendorListVersion
  put(4, 6); // TcfPolicyVersion
  put(1, 1); // IsServiceSpecific
  put(0, 1); // UseNonStandardTexts
  put(0, 12); // SpecialFeatureOptIns
  for (let p = 1; p <= 24; p++) put(purposes.includes(p) ? 1 : 0, 1); // PurposesConsent
  for (let p = 1; p <= 24; p++) put(p === 2 || p === 7 ? 1 : 0, 1); // PurposesLITransparency
  put(0, 1); // PurposeOneTreatment
  put(('D'.charCodeAt(0) - 65) * 64 + ('E'.charCodeAt(0) - 65), 12); // PublisherCC
  put(0, 16); // MaxVendorId (consents)
  put(0, 1);
  put(0, 16); // MaxVendorId (legitimate interests)
  put(0, 1);
  put(0, 12); // NumPubRestrictions
  while (bits.length % 8) bits.push(0);
  const bytes = Buffer.alloc(bits.length / 8);
  bits.forEach((b, i) => (bytes[i >> 3] |= b << (7 - (i & 7))));
  return bytes.toString('base64url');
}
