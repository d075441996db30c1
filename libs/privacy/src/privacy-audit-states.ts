import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '@plexus/audit';
import { PrivacyRequestService } from './privacy-request.service.js';
import { RetentionService } from './retention.service.js';

/**
 * How the audit log reads privacy resources before a change. A request's state is recorded without the
 * identifier's value or the export document: the audit log is append-only and must never hold personal data.
 */
@Injectable()
export class PrivacyAuditStates implements OnModuleInit {
  constructor(
    private readonly audit: AuditService,
    private readonly requests: PrivacyRequestService,
    private readonly retention: RetentionService,
  ) {}

  onModuleInit(): void {
    this.audit.registerState('privacy', async (id) => {
      if (!id) return undefined;
      const view = await this.requests.get(id);
      return { id: view.id, type: view.type, status: view.status, identifierType: view.identifier.type };
    });
    this.audit.registerState('retention', async () => (await this.retention.view()).policy);
  }
}
