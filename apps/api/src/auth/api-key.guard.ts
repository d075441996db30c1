import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Environment } from '@plexus/config';
import { ApiKeyRepository, type ApiKeyRecord } from '@plexus/storage';
import { RateLimits } from './rate-limits.service.js';
import { isOpen, routeRequirement } from './route-scope.js';
import { describeScope, grants } from './scopes.js';

/** A request that passed the guard with a key. */
export type AuthenticatedRequest = Request & { apiKey?: ApiKeyRecord };

/** The key of `Authorization: Bearer <key>`; other schemes give undefined. */
export function bearerCredential(header: string | undefined): string | undefined {
  const [scheme, value] = (header ?? '').split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' && value?.trim() ? value.trim() : undefined;
}

/** The password of `Authorization: Basic …` (the queue board's browser prompt); other schemes give undefined. */
export function basicPassword(header: string | undefined): string | undefined {
  const [scheme, value] = (header ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'basic' || !value) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

/**
 * Checks a key and counts failures per client address (429 once an address failed too often). Shared by the
 * guard and the queue board, which takes the key from a Basic prompt instead of a Bearer header.
 */
@Injectable()
export class ApiKeyAuthenticator {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly limits: RateLimits,
  ) {}

  async authenticate(key: string | undefined, address: string, missing: string): Promise<ApiKeyRecord> {
    await this.limits.assertMayAuthenticate(address);
    const record = key === undefined ? undefined : await this.keys.verify(key);
    if (record) return record;
    await this.limits.recordFailure(address);
    throw new UnauthorizedException(key === undefined ? missing : 'Invalid, expired or revoked API key');
  }
}

/**
 * Every endpoint needs an API key sent as `Authorization: Bearer <key>` unless marked `@Public()`, and the
 * key must hold the route's scopes (`@RequireScopes`, or by default `read` to read and `admin` to change).
 * Bearer only: browsers never attach it on their own, so another site cannot make an admin's browser call
 * the API (Basic credentials, which browsers do resend, are accepted by the queue board alone).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly env: Environment,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const requirement = routeRequirement(this.reflector, context.getHandler(), context.getClass(), request.method);
    if (isOpen(requirement, this.env)) return true;
    const basic = request.headers.authorization?.toLowerCase().startsWith('basic ');
    const record = await this.authenticator.authenticate(
      bearerCredential(request.headers.authorization),
      request.ip ?? 'unknown',
      basic
        ? 'Basic credentials are accepted only by the queue board: send Authorization: Bearer <key>'
        : 'Missing API key: send Authorization: Bearer <key>',
    );
    request.apiKey = record;
    if (!grants(record.scopes, requirement.scopes))
      throw new ForbiddenException(`This API key lacks the scope ${describeScope(requirement.scopes)} needed here`);
    return true;
  }
}
