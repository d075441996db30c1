import { Global, Module } from '@nestjs/common';
import { AuditService } from './audit.service.js';

/** The audit log, global so any domain module can record into it. */
@Global()
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditModule {}
