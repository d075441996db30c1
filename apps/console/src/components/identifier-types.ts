/** The canonical identifier types (docs: the canonical model), in the order the console offers them. */
export const IDENTIFIER_TYPES = [
  'email',
  'phone',
  'user_id',
  'external_id',
  'anonymous_id',
  'cookie_id',
  'device_id',
  'email_sha256',
];
