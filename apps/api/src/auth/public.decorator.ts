import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'plexus:public';

/** Opens an endpoint to callers without an admin API key (health, readiness, metrics, tracking). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
