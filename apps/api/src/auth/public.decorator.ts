import { SetMetadata } from '@nestjs/common';
import type { Environment } from '@plexus/config';

export const IS_PUBLIC = 'plexus:public';

/** Whether an endpoint is open: always (`true`), or when the environment says so. */
export type PublicWhen = true | { when: (env: Environment) => boolean; description: string };

/** Opens an endpoint to callers without an API key (health, readiness, tracking, webhooks). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true satisfies PublicWhen);

/**
 * Opens an endpoint without a key only when `when(env)` holds (e.g. `/metrics` with METRICS_PUBLIC=true);
 * otherwise it needs its scopes like any other. `description` names the condition in the OpenAPI document.
 */
export const PublicIf = (when: (env: Environment) => boolean, description: string): MethodDecorator =>
  SetMetadata(IS_PUBLIC, { when, description } satisfies PublicWhen);
