import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '@plexus/audit';
import { ConnectionService } from '@plexus/connectors';
import { IdentityRulesService } from '@plexus/identity';
import { ApiKeyRepository } from '@plexus/storage';

/**
 * How the audit log reads the state of each admin resource before a change (secrets are masked by the
 * services' own views and removed again by the audit service). A new resource adds a line here, or
 * registers itself with `AuditService.registerState` from its own module. A target that does not exist, or an id
 * the database refuses, has no state (see `AuditService.stateOf`).
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
    this.audit.registerState('api-keys', async (id) => (id ? this.keys.get(id) : undefined));
    this.audit.registerState('sources', async (id) => (id ? this.connections.get('source', id) : undefined));
    this.audit.registerState('destinations', async (id) => (id ? this.connections.get('destination', id) : undefined));
    this.audit.registerState('identity', () => this.rules.get());
  }
}
