import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import {
  AudienceChangeLog,
  AudienceEvaluator,
  AudienceService,
  ComputedTraitService,
  type AudienceView,
  type EvaluationResult,
  type ProfileAudienceView,
} from '@plexus/audiences';
import type { AudienceChange, AudienceMember, SizePoint } from '@plexus/storage';
import { decodeCursor, PageQuery, toPage, type Page } from '../http/pagination.js';
import { RequireScopes } from '../auth/scopes.js';
import { list, page, Returns } from '../openapi/response-schema.js';
import {
  AUDIENCE,
  CHANGES,
  COMPUTED_VALUE,
  EVALUATION,
  MEMBER,
  OVERLAP,
  PREVIEW,
  PROFILE_AUDIENCE,
  SIZE_POINT,
} from './audience-responses.js';

const RULE_EXAMPLE = {
  all: [
    { trait: 'country', op: 'eq', value: 'FR' },
    { consent: 'ads' },
    { event: 'Order Completed', within: '90d', count: { op: 'gte', value: 2 } },
  ],
};

export class CreateAudienceDto {
  @ApiProperty({ example: 'French repeat buyers' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ example: RULE_EXAMPLE, description: 'the rule tree (docs/AUDIENCES.md)', additionalProperties: true })
  @IsDefined()
  @IsObject()
  rule!: Record<string, unknown>;
}

export class UpdateAudienceDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ example: RULE_EXAMPLE, additionalProperties: true })
  @IsOptional()
  @IsObject()
  rule?: Record<string, unknown>;
}

export class PreviewDto {
  @ApiProperty({ example: RULE_EXAMPLE, additionalProperties: true })
  @IsDefined()
  @IsObject()
  rule!: Record<string, unknown>;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 10 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  sample: number = 10;
}

export class ChangesQuery {
  @ApiPropertyOptional({ description: 'the cursor of the last change already read (0 = from the start)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after: number = 0;

  @ApiPropertyOptional({ minimum: 1, maximum: 5000, default: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit: number = 1000;
}

export class SizesQuery {
  @ApiPropertyOptional({ description: 'only points after this time' })
  @IsOptional()
  @IsISO8601()
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 10000, default: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  limit: number = 1000;
}

export class OverlapQuery {
  @ApiProperty({ description: 'audience ids separated by commas (2 to 20)' })
  @IsString()
  @MaxLength(1000)
  ids!: string;
}

@ApiTags('audiences')
@ApiBearerAuth()
@Controller('v1/audiences')
@RequireScopes('audiences:write')
export class AudiencesController {
  constructor(
    private readonly audiences: AudienceService,
    private readonly evaluator: AudienceEvaluator,
    private readonly changeLog: AudienceChangeLog,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create an audience; it is evaluated at once (the answer has its size)' })
  @Returns(AUDIENCE, 201)
  create(@Body() body: CreateAudienceDto): Promise<AudienceView> {
    return this.audiences.create(body);
  }

  @Get()
  @RequireScopes('read')
  @Returns(page(AUDIENCE))
  async list(@Query() query: PageQuery): Promise<Page<AudienceView>> {
    return toPage(await this.audiences.list(query.limit + 1, decodeCursor(query.after)), query.limit, (a) => a.id);
  }

  @Post('preview')
  @RequireScopes('read')
  @HttpCode(200)
  @ApiOperation({ summary: 'Size and a sample of a rule’s members, without saving' })
  @Returns(PREVIEW)
  preview(@Body() body: PreviewDto): Promise<{ size: number; sample: string[]; warnings: string[] }> {
    return this.audiences.preview(body.rule, body.sample);
  }

  @Get('overlap')
  @RequireScopes('read')
  @ApiOperation({ summary: 'Members in common for each pair of audiences' })
  @Returns(OVERLAP)
  overlap(@Query() query: OverlapQuery): ReturnType<AudienceService['overlap']> {
    return this.audiences.overlap(query.ids.split(',').map((s) => s.trim()));
  }

  @Get(':id')
  @RequireScopes('read')
  @Returns(AUDIENCE)
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<AudienceView> {
    return this.audiences.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, description or rule; a new rule is re-evaluated and its changes logged' })
  @Returns(AUDIENCE)
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateAudienceDto): Promise<AudienceView> {
    return this.audiences.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.audiences.delete(id);
  }

  @Post(':id/evaluate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Full evaluation now; the changes go to the change log' })
  @Returns(EVALUATION)
  evaluate(@Param('id', new ParseUUIDPipe()) id: string): Promise<EvaluationResult> {
    return this.evaluator.evaluate(id, 'full');
  }

  @Get(':id/members')
  @RequireScopes('read')
  @Returns(page(MEMBER))
  async members(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<AudienceMember>> {
    const rows = await this.changeLog.members(id, query.limit + 1, decodeCursor(query.after));
    return toPage(rows, query.limit, (m) => m.profileId);
  }

  @Get(':id/changes')
  @RequireScopes('read')
  @ApiOperation({ summary: 'The change log after a cursor, oldest first; `next` is the cursor to continue after' })
  @Returns(CHANGES)
  async changes(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: ChangesQuery,
  ): Promise<{ data: AudienceChange[]; next: number }> {
    const data = await this.changeLog.read(id, query.after, query.limit);
    return { data, next: data.length > 0 ? data[data.length - 1].cursor : query.after };
  }

  @Get(':id/sizes')
  @RequireScopes('read')
  @ApiOperation({ summary: 'The size after each evaluation, oldest first' })
  @Returns(list(SIZE_POINT))
  async sizes(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: SizesQuery,
  ): Promise<{ data: SizePoint[] }> {
    return { data: await this.audiences.sizes(id, query.limit, query.after ? new Date(query.after) : undefined) };
  }
}

@ApiTags('profiles')
@ApiBearerAuth()
@Controller('v1/profiles')
export class ProfileAudiencesController {
  constructor(
    private readonly evaluator: AudienceEvaluator,
    private readonly computed: ComputedTraitService,
  ) {}

  @Get(':id/computed-traits')
  @ApiOperation({ summary: 'The profile’s computed trait values' })
  @Returns(list(COMPUTED_VALUE))
  async computedTraits(
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<{ data: Array<{ name: string; value: unknown; computedAt: Date }> }> {
    return { data: await this.computed.valuesOf(id) };
  }

  @Get(':id/audiences')
  @ApiOperation({ summary: 'Every audience, whether the profile is in it, and why (evaluated now)' })
  @Returns(list(PROFILE_AUDIENCE))
  async audiences(@Param('id', new ParseUUIDPipe()) id: string): Promise<{ data: ProfileAudienceView[] }> {
    return { data: await this.evaluator.explainProfile(id) };
  }
}
