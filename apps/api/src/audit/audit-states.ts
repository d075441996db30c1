import { Injectable, type OnModuleInit } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { AuditService } from '@plexus/audit';
import { ConnectionService } from '@plexus/connectors';
import { IdentityRulesService } from '@plexus/identity';
import { ApiKeyRepository } from '@plexus/storage';

/**
 * How the audit log reads the state of each admin resource before a change (secrets are masked by the
 * services' own views and removed again by the audit service). A new resource adds a line here, or
 * registers itself with `AuditService.registerState` from its own module. A target that does not exist has no
 * state (`undefined`, or the `NotFoundError` of a service); an id that is no UUID is not looked up — the audit
 * interceptor runs before the route's validation pipe, which rejects it.
 */
@Injectable()
export class AuditStates implements OnModuleInit {
  constructor(
    private readonly audit: AuditService,
    private readonly keys: ApiKeyRepository,
    private readonly connections: ConnectionService,
    private readonly rules: IdentityRulesService,
  ) {}

  onModuleInit(): void {
    this.audit.registerState('api-keys', async (id) => (id && isUUID(id) ? this.keys.get(id) : undefined));
    this.audit.registerState('sources', async (id) => (id ? this.connections.get('source', id) : undefined));
    this.audit.registerState('destinations', async (id) => (id ? this.connections.get('destination', id) : undefined));
    this.audit.registerState('identity', () => this.rules.get());
  }
}
