import { Body, Controller, Get, Header, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { InvalidInputError } from '@plexus/errors';
import {
  ConsentService,
  PrivacyRequestService,
  RetentionService,
  type ConsentView,
  type PrivacyRequestView,
  type RetentionView,
} from '@plexus/privacy';
import type { RetentionRunRow } from '@plexus/storage';
import { RequireScopes } from '../auth/scopes.js';
import { page, Returns } from '../openapi/response-schema.js';
import {
  CONSENT,
  EXPORT_DOCUMENT,
  FILED_REQUEST,
  PRIVACY_REQUEST,
  RETENTION,
  RETENTION_RUN,
  RETENTION_RUN_STARTED,
} from './privacy-responses.js';
import { decodeCursor, decodeIntegerCursor, PageQuery, toPage, type Page } from '../http/pagination.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses fields a body may not have, naming each. */
function onlyFields(body: unknown, allowed: string[], prefix = ''): Record<string, unknown> {
  if (!isObject(body)) throw InvalidInputError.field(prefix.replace(/\.$/, '') || 'body', 'must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw InvalidInputError.fields(unknown.map((k) => ({ field: `${prefix}${k}`, problems: ['is not allowed'] })));
  return body;
}

export class PrivacyRequestQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['queued', 'running', 'waiting', 'completed', 'failed'] })
  @IsOptional()
  @IsIn(['queued', 'running', 'waiting', 'completed', 'failed'])
  status?: 'queued' | 'running' | 'waiting' | 'completed' | 'failed';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@ApiTags('privacy')
@ApiBearerAuth()
@Controller('v1/privacy/requests')
export class PrivacyRequestsController {
  constructor(private readonly requests: PrivacyRequestService) {}

  @Post()
  @HttpCode(202)
  @RequireScopes('privacy')
  @Returns(FILED_REQUEST, 202)
  @ApiOperation({
    summary:
      'Files a delete, suppress, unsuppress or export request for the person holding an identifier; runs as a job. ' +
      'The same request for the same person while one runs answers that one (duplicate: true).',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['type', 'identifier'],
      properties: {
        type: { type: 'string', enum: ['delete', 'suppress', 'unsuppress', 'export'] },
        identifier: {
          type: 'object',
          required: ['type', 'value'],
          properties: {
            type: { type: 'string', example: 'email' },
            value: { type: 'string', example: 'alice@example.io' },
            country: { type: 'string', example: 'US', description: 'for phone numbers without a country code' },
          },
        },
      },
    },
  })
  async create(@Body() body: unknown): Promise<{ id: string; status: string; duplicate: boolean }> {
    const b = onlyFields(body, ['type', 'identifier']);
    if (typeof b.type !== 'string') throw InvalidInputError.field('type', 'is required');
    const identifier = onlyFields(b.identifier ?? null, ['type', 'value', 'country'], 'identifier.');
    if (typeof identifier.type !== 'string') throw InvalidInputError.field('identifier.type', 'is required');
    if (typeof identifier.value !== 'string' || identifier.value.length > 600)
      throw InvalidInputError.field('identifier.value', 'must be a string of at most 600 characters');
    if (
      identifier.country !== undefined &&
      (typeof identifier.country !== 'string' || !/^[A-Za-z]{2}$/.test(identifier.country))
    )
      throw InvalidInputError.field('identifier.country', 'must be a two-letter country code');
    const { request, duplicate } = await this.requests.create({
      type: b.type,
      identifier: {
        type: identifier.type,
        value: identifier.value,
        ...(identifier.country ? { country: identifier.country } : {}),
      },
    });
    return { id: request.id, status: request.status, duplicate };
  }

  @Get()
  @RequireScopes('privacy')
  @Returns(page(PRIVACY_REQUEST))
  @ApiOperation({ summary: 'Privacy requests, newest first' })
  async list(@Query() query: PrivacyRequestQuery): Promise<Page<PrivacyRequestView>> {
    const cursor = decodeCursor(query.after);
    let before: { createdAt: Date; id: string } | undefined;
    if (cursor !== undefined) {
      const [at, id] = cursor.split('|');
      before = { createdAt: new Date(at ?? ''), id: id ?? '' };
      if (Number.isNaN(before.createdAt.getTime()) || !UUID.test(before.id))
        throw InvalidInputError.field('after', 'is not a cursor this API issued');
    }
    const rows = await this.requests.list(query.limit + 1, before, query.status);
    return toPage(rows, query.limit, (r) => `${r.createdAt.toISOString()}|${r.id}`);
  }

  @Get(':id')
  @RequireScopes('privacy')
  @Returns(PRIVACY_REQUEST)
  @ApiOperation({ summary: 'A privacy request with the state of each step, and what a waiting step waits on' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<PrivacyRequestView> {
    return this.requests.get(id);
  }

  @Get(':id/export')
  @RequireScopes('privacy', 'pii:read')
  @Returns(EXPORT_DOCUMENT)
  @Header('content-disposition', 'attachment; filename="plexus-export.json"')
  @ApiOperation({ summary: 'The JSON document of a completed export request: everything held about the person' })
  async export(@Param('id', new ParseUUIDPipe()) id: string): Promise<unknown> {
    return this.requests.exportDocument(id);
  }
}

@ApiTags('privacy')
@ApiBearerAuth()
@Controller('v1/profiles')
export class ConsentController {
  constructor(private readonly consent: ConsentService) {}

  @Put(':id/consent')
  @RequireScopes('privacy')
  @Returns(CONSENT)
  @ApiOperation({
    summary:
      'Sets consent per purpose (ads, email, analytics, personalisation, sale) with its source; a revocation ' +
      'takes the person out of the destinations of that purpose',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['purposes'],
      properties: {
        purposes: { type: 'object', additionalProperties: { type: 'boolean' }, example: { ads: false, email: true } },
        source: { type: 'string', example: 'dpo-ticket-4711', description: 'where the decision came from' },
        observedAt: { type: 'string', format: 'date-time', description: 'when it was given (default now)' },
      },
    },
  })
  async put(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: unknown): Promise<ConsentView> {
    const b = onlyFields(body, ['purposes', 'source', 'observedAt']);
    if (!isObject(b.purposes)) throw InvalidInputError.field('purposes', 'must be an object of purpose: boolean');
    if (b.source !== undefined && (typeof b.source !== 'string' || !/^[\w.:@/-]{1,100}$/.test(b.source)))
      throw InvalidInputError.field('source', 'must be 1 to 100 letters, digits or . _ : @ / -');
    let observedAt: Date | undefined;
    if (b.observedAt !== undefined) {
      observedAt = typeof b.observedAt === 'string' ? new Date(b.observedAt) : new Date(NaN);
      if (Number.isNaN(observedAt.getTime()) || observedAt.getTime() > Date.now() + 60_000)
        throw InvalidInputError.field('observedAt', 'must be an ISO date-time, not in the future');
    }
    return this.consent.set(id, b.purposes, b.source ?? 'api', observedAt);
  }
}

@ApiTags('privacy')
@ApiBearerAuth()
@Controller('v1/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get()
  @Returns(RETENTION)
  @ApiOperation({ summary: 'The retention policy, and the identifier time-to-live days from the identity rules' })
  async get(): Promise<RetentionView> {
    return this.retention.view();
  }

  @Put()
  @RequireScopes('privacy')
  @Returns(RETENTION)
  @ApiOperation({ summary: 'Changes the retention policy (fields not sent keep their value) and its schedule' })
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        eventsDays: { type: 'integer', nullable: true, example: 395 },
        quarantineDays: { type: 'integer', nullable: true, example: 90 },
        ledgerDays: { type: 'integer', nullable: true, example: 395 },
        exportsDays: { type: 'integer', example: 7 },
        deleteEmptyProfiles: { type: 'boolean', example: true },
        batchSize: { type: 'integer', example: 1000 },
        schedule: { type: 'object', additionalProperties: true, example: { cron: '30 3 * * *' } },
      },
    },
  })
  async put(@Body() body: unknown): Promise<RetentionView> {
    return this.retention.update(body);
  }

  @Get('runs')
  @Returns(page(RETENTION_RUN))
  @ApiOperation({ summary: 'Retention sweeps, newest first, with what each removed' })
  async runs(@Query() page: PageQuery): Promise<Page<RetentionRunRow>> {
    const rows = await this.retention.runs(page.limit + 1, decodeIntegerCursor(page.after));
    return toPage(rows, page.limit, (r) => String(r.id));
  }

  @Post('runs')
  @HttpCode(202)
  @RequireScopes('privacy')
  @Returns(RETENTION_RUN_STARTED, 202)
  @ApiOperation({ summary: 'Runs a retention sweep now' })
  async start(): Promise<{ id: number; status: string }> {
    const run = await this.retention.request();
    return { id: run.id, status: run.status };
  }

  @Get('runs/:runId')
  @Returns(RETENTION_RUN)
  @ApiOperation({ summary: 'One retention sweep' })
  async run(@Param('runId') runId: string): Promise<RetentionRunRow> {
    if (!/^\d{1,15}$/.test(runId)) throw InvalidInputError.field('runId', 'must be a run id');
    return this.retention.run(Number(runId));
  }
}
