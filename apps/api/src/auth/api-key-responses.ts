import { array, dateTime, nullable, object, oneOfStrings, string, type Json } from '../openapi/response-schema.js';
import { SCOPES } from './scopes.js';

/** Stored as text[]; only scopes of this list are ever written (checked on create). */
const SCOPE_LIST: Json<string[]> = array(oneOfStrings(SCOPES), 'admin implies every other scope');

const KEY = {
  id: string(),
  name: string(),
  prefix: string('the key’s first characters, or # and a fingerprint of its hash'),
  scopes: SCOPE_LIST,
  expiresAt: nullable(dateTime()),
};

const STORED_KEY = {
  ...KEY,
  createdBy: nullable(string('the key that created it')),
  createdAt: dateTime(),
  lastUsedAt: nullable(dateTime()),
  revokedAt: nullable(dateTime()),
};

export const API_KEY = object(STORED_KEY);

export const CREATED_API_KEY = object({ ...STORED_KEY, key: string('the key itself, shown only in this answer') });

/** The calling key: what the console reads to offer only what the key may do. */
export const CURRENT_API_KEY = object(KEY);
