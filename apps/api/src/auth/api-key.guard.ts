import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeyRepository } from '@plexus/storage';
import { IS_PUBLIC } from './public.decorator.js';

/** Reads an admin key from `Authorization: Bearer <key>`, or from HTTP Basic (password) for browser pages. */
export function credentialFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** Every endpoint needs an admin API key unless marked `@Public()`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<Request & { apiKeyId?: string }>();
    const key = credentialFrom(request.headers.authorization);
    if (!key) throw new UnauthorizedException('Missing admin API key: send Authorization: Bearer <key>');
    const record = await this.keys.verify(key);
    if (!record) throw new UnauthorizedException('Invalid or revoked API key');
    request.apiKeyId = record.id;
    return true;
  }
}
