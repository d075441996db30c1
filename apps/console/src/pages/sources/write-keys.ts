/**
 * A write key is shown once, in the answer that issued it. The form page hands it to the source page through
 * this in-memory map (never storage), which forgets it once shown.
 */
export const issuedWriteKeys = new Map<string, string>();
