import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { concatMap, from, switchMap, type Observable } from 'rxjs';
import { AuditService } from '@plexus/audit';
import type { AuthenticatedRequest } from '../auth/api-key.guard.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `sources`, `api-keys`, `identity`…: the resource a route under /v1 acts on. */
export function targetTypeOf(routePath: string): string {
  return routePath.split('/').filter(Boolean)[1] ?? 'root';
}

/**
 * Records every successful change made with an API key: the key, the action (`METHOD /route/:template`),
 * the target and its state before (from the loader its type registered with {@link AuditService}) and
 * after (the answer). Failed requests change nothing and are not recorded; public routes (tracking,
 * webhooks) carry data, not admin changes.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { id?: unknown }>();
    if (!MUTATING.has(request.method) || !request.apiKey) return next.handle();
    const routePath = (request.route as { path?: string } | undefined)?.path ?? request.path;
    const targetType = targetTypeOf(routePath);
    const params = request.params as Record<string, string | undefined>;
    const givenId = params.id ?? params.sourceId ?? null;
    const actorKeyId = request.apiKey.id;
    return from(this.audit.stateOf(targetType, givenId)).pipe(
      switchMap((before) =>
        next.handle().pipe(
          concatMap(async (answer: unknown) => {
            const createdId = (answer as { id?: unknown } | undefined)?.id;
            const targetId = givenId ?? (typeof createdId === 'string' ? createdId : null);
            await this.audit.record({
              actorKeyId,
              action: `${request.method} ${routePath}`,
              targetType,
              targetId,
              requestId: typeof request.id === 'string' ? request.id : null,
              before,
              after: answer ?? (await this.audit.stateOf(targetType, targetId)),
            });
            return answer;
          }),
        ),
      ),
    );
  }
}
