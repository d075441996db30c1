import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { AuditService } from '@plexus/audit';
import type { AuditEntry } from '@plexus/storage';
import { RequireScopes } from '../auth/scopes.js';
import { decodeCursor, PageQuery, toPage, type Page } from '../http/pagination.js';
import { anyJson, dateTime, integer, nullable, object, page, Returns, string } from '../openapi/response-schema.js';

const AUDIT_ENTRY = object({
  id: integer(),
  at: dateTime(),
  actorKeyId: nullable(string('the API key that made the change')),
  action: string('method and route template, e.g. PATCH /v1/sources/:id'),
  targetType: string(),
  targetId: nullable(string()),
  requestId: nullable(string()),
  before: anyJson('the target’s state before, credentials removed'),
  after: anyJson('the target’s state after, credentials removed'),
});

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'only changes made with this API key (its id)' })
  @IsOptional()
  @IsUUID()
  actorKeyId?: string;

  @ApiPropertyOptional({ example: 'PATCH /v1/sources/:id', description: 'method and route template' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  action?: string;

  @ApiPropertyOptional({ example: 'sources', description: 'the kind of resource changed' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  targetType?: string;

  @ApiPropertyOptional({ description: 'the id of the resource changed' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  targetId?: string;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'entries at or after this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  since?: Date;

  @ApiPropertyOptional({ description: 'entries before this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  until?: Date;
}

@ApiTags('admin')
@ApiBearerAuth()
@RequireScopes('admin')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'The audit log, newest first: who changed what and when, with before/after' })
  @Returns(page(AUDIT_ENTRY))
  async list(@Query() query: AuditQuery): Promise<Page<AuditEntry>> {
    const after = decodeCursor(query.after);
    const beforeId = after === undefined ? undefined : Number(after);
    if (beforeId !== undefined && !Number.isSafeInteger(beforeId))
      throw new BadRequestException({
        message: 'Invalid request: after (not a cursor from this list)',
        details: [{ field: 'after', problems: ['not a cursor from this list'] }],
      });
    const { actorKeyId, action, targetType, targetId, since, until } = query;
    const rows = await this.audit.list(
      { actorKeyId, action, targetType, targetId, since, until },
      query.limit + 1,
      beforeId,
    );
    return toPage(rows, query.limit, (r) => String(r.id));
  }
}
