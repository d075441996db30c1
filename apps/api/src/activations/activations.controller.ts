import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ActivationService, type ActivationView, type LedgerAnswer } from '@plexus/activation';
import type { ActivationRunRow, DeadLetterRow } from '@plexus/storage';
import { decodeIntegerCursor, decodeUuidCursor, PageQuery, toPage, type Page } from '../http/pagination.js';
import { RequireScopes } from '../auth/scopes.js';
import { page, Returns } from '../openapi/response-schema.js';
import { ACTIVATION, ACTIVATION_RUN, DEAD_LETTER, LEDGER, REPLAY } from './activation-responses.js';

const SCHEDULE_DOC = 'deliver at these times instead of seconds after each change: { cron, tz? } or { everySeconds }';

export class CreateActivationDto {
  @ApiProperty({ description: 'the audience whose changes are delivered' })
  @IsUUID()
  audienceId!: string;

  @ApiProperty({ description: 'a configured destination (POST /v1/destinations)', example: 'dst_0123456789abcdef' })
  @IsString()
  @Matches(/^[\w-]{1,100}$/, { message: 'destinationId must be a destination id' })
  destinationId!: string;

  @ApiProperty({
    enum: ['upsert', 'mirror'],
    description:
      'upsert: adds and removes as members enter and leave; mirror: replace the platform list, then follow changes',
  })
  @IsIn(['upsert', 'mirror'])
  mode!: 'upsert' | 'mirror';

  @ApiPropertyOptional({
    type: [String],
    description: 'identifier types handed to the destination (default: every type its connector accepts)',
    example: ['email', 'phone'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  identifiers?: string[];

  @ApiPropertyOptional({
    description: SCHEDULE_DOC,
    type: 'object',
    additionalProperties: true,
    example: { cron: '0 3 * * *' },
  })
  @IsOptional()
  @IsObject()
  schedule?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: "the platform's audience id (required by connectors that cannot create audiences, e.g. TikTok)",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  externalId?: string;
}

export class UpdateActivationDto {
  @ApiPropertyOptional({
    description: 'true pauses delivery; false resumes it (and retries what a configuration error stopped)',
  })
  @IsOptional()
  @IsBoolean()
  paused?: boolean;

  @ApiPropertyOptional({
    description: `${SCHEDULE_DOC}; null delivers in real time again`,
    type: 'object',
    additionalProperties: true,
    nullable: true,
  })
  @IsOptional()
  @IsObject()
  schedule?: Record<string, unknown> | null;

  @ApiPropertyOptional({ description: "the platform's audience id" })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  externalId?: string;
}

export class LedgerQuery {
  @ApiProperty({
    description: 'type:value of the person, normalised as at ingestion',
    example: 'email:alice@example.com',
  })
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  identifier!: string;
}

export class ListActivationsQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  audienceId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  destinationId?: string;
}

export class RunsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit: number = 20;

  @ApiPropertyOptional({ description: 'cursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  after?: string;
}

@ApiTags('activations')
@ApiBearerAuth()
@Controller('v1/activations')
@RequireScopes('activations:write')
export class ActivationsController {
  constructor(private readonly activations: ActivationService) {}

  @Post()
  @Returns(ACTIVATION, 201)
  @ApiOperation({ summary: 'Link an audience to a destination; delivery starts at once (docs/ACTIVATION.md)' })
  create(@Body() body: CreateActivationDto): Promise<ActivationView> {
    return this.activations.create(body);
  }

  @Get()
  @RequireScopes('read')
  @Returns(page(ACTIVATION))
  async list(@Query() query: ListActivationsQuery): Promise<Page<ActivationView>> {
    const rows = await this.activations.list(query.limit + 1, decodeUuidCursor(query.after), {
      audienceId: query.audienceId,
      destinationId: query.destinationId,
    });
    return toPage(rows, query.limit, (a) => a.id);
  }

  @Get(':id')
  @RequireScopes('read')
  @Returns(ACTIVATION)
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<ActivationView> {
    return this.activations.get(id);
  }

  @Patch(':id')
  @Returns(ACTIVATION)
  @ApiOperation({ summary: 'Pause, resume, change the schedule or the platform audience id' })
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateActivationDto): Promise<ActivationView> {
    return this.activations.update(id, body);
  }

  @Delete(':id')
  @HttpCode(202)
  @Returns(ACTIVATION, 202)
  @ApiOperation({
    summary: 'Delete: every member the platform holds is removed, then the activation is marked deleted',
  })
  delete(@Param('id', new ParseUUIDPipe()) id: string): Promise<ActivationView> {
    return this.activations.delete(id);
  }

  @Get(':id/runs')
  @RequireScopes('read')
  @Returns(page(ACTIVATION_RUN))
  @ApiOperation({
    summary: 'Delivery runs, newest first, with sent / accepted / invalid / failed / not sendable counts',
  })
  async runs(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: RunsQuery): Promise<Page<ActivationRunRow>> {
    const rows = await this.activations.runs(id, query.limit + 1, decodeIntegerCursor(query.after));
    return toPage(rows, query.limit, (r) => String(r.id));
  }

  @Get(':id/ledger')
  @RequireScopes('read')
  @Returns(LEDGER)
  @ApiOperation({ summary: 'Was this person sent to the platform, what was sent (hashed), and were they removed?' })
  ledger(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: LedgerQuery): Promise<LedgerAnswer> {
    return this.activations.ledger(id, query.identifier);
  }

  @Get(':id/dead-letters')
  @RequireScopes('read')
  @Returns(page(DEAD_LETTER))
  @ApiOperation({ summary: 'Batches that failed after the retry budget, with their members and the error' })
  async deadLetters(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<DeadLetterRow>> {
    const rows = await this.activations.deadLetters(id, query.limit + 1, decodeIntegerCursor(query.after));
    return toPage(rows, query.limit, (r) => String(r.id));
  }

  @Post(':id/replay')
  @HttpCode(202)
  @Returns(REPLAY, 202)
  @ApiOperation({ summary: 'Replay the dead letters: each member is sent what the audience and the ledger say now' })
  replay(@Param('id', new ParseUUIDPipe()) id: string): Promise<{ queued: number }> {
    return this.activations.replay(id);
  }
}
