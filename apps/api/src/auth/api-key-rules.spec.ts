import { mintProblem } from './api-key-rules.js';
import { defaultScopes, grants, isSubset } from './scopes.js';

describe('scopes', () => {
  it('admin implies every scope; others need each required scope', () => {
    expect(grants(['admin'], ['pii:read', 'privacy'])).toBe(true);
    expect(grants(['read'], ['read'])).toBe(true);
    expect(grants(['read'], ['read', 'pii:read'])).toBe(false);
    expect(grants(['sources:write'], ['admin'])).toBe(false);
    expect(grants([], [])).toBe(true);
  });

  it('routes without a declared scope: reading needs read, anything else admin', () => {
    expect(defaultScopes('GET')).toEqual(['read']);
    expect(defaultScopes('head')).toEqual(['read']);
    expect(defaultScopes('POST')).toEqual(['admin']);
    expect(defaultScopes('DELETE')).toEqual(['admin']);
  });

  it('a subset of admin is anything; otherwise only held scopes', () => {
    expect(isSubset(['privacy', 'read'], ['admin'])).toBe(true);
    expect(isSubset(['read'], ['read', 'pii:read'])).toBe(true);
    expect(isSubset(['admin'], ['read'])).toBe(false);
  });
});

describe('mintProblem', () => {
  const in1h = new Date(Date.now() + 3600_000);
  const in2h = new Date(Date.now() + 7200_000);

  it('lets a key mint the same or fewer scopes', () => {
    expect(mintProblem({ scopes: ['admin'], expiresAt: null }, { scopes: ['read'], expiresAt: null })).toBeUndefined();
    expect(
      mintProblem({ scopes: ['read', 'pii:read'], expiresAt: null }, { scopes: ['read'], expiresAt: in1h }),
    ).toBeUndefined();
  });

  it('refuses a scope the creator lacks, naming it', () => {
    expect(
      mintProblem({ scopes: ['read'], expiresAt: null }, { scopes: ['read', 'admin'], expiresAt: null }),
    ).toMatchObject({ field: 'scopes', problem: expect.stringMatching(/cannot grant admin/) as unknown });
    expect(mintProblem({ scopes: ['read'], expiresAt: null }, { scopes: ['pii:read'], expiresAt: null })?.field).toBe(
      'scopes',
    );
    expect(mintProblem({ scopes: ['admin'], expiresAt: null }, { scopes: [], expiresAt: null })?.field).toBe('scopes');
  });

  it('refuses a key that would outlive an expiring creator', () => {
    expect(mintProblem({ scopes: ['admin'], expiresAt: in1h }, { scopes: ['read'], expiresAt: null })?.field).toBe(
      'expiresAt',
    );
    expect(mintProblem({ scopes: ['admin'], expiresAt: in1h }, { scopes: ['read'], expiresAt: in2h })?.field).toBe(
      'expiresAt',
    );
    expect(mintProblem({ scopes: ['admin'], expiresAt: in2h }, { scopes: ['read'], expiresAt: in1h })).toBeUndefined();
  });
});
