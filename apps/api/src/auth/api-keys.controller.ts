import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsDate,
  IsIn,
  IsOptional,
  IsString,
  Length,
  MinDate,
} from 'class-validator';
import { ApiKeyRepository, generateApiKey, type ApiKeyRecord } from '@plexus/storage';
import { decodeUuidCursor, PageQuery, toPage, type Page } from '../http/pagination.js';
import { mintProblem } from './api-key-rules.js';
import type { AuthenticatedRequest } from './api-key.guard.js';
import { RequireScopes, SCOPES, type Scope } from './scopes.js';
import { page, Returns } from '../openapi/response-schema.js';
import { API_KEY, CREATED_API_KEY, CURRENT_API_KEY } from './api-key-responses.js';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci pipeline' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({
    enum: SCOPES,
    isArray: true,
    example: ['read'],
    description: "what the key may do (default: the creating key's scopes); admin implies every scope",
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(SCOPES.length)
  @IsIn(SCOPES, { each: true })
  scopes?: Scope[];

  @ApiPropertyOptional({ description: 'when the key stops working (default: never)', example: '2030-01-01T00:00:00Z' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @MinDate(() => new Date(), { message: 'expiresAt must be in the future' })
  expiresAt?: Date;
}

@ApiTags('admin')
@ApiBearerAuth()
@RequireScopes('admin')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyRepository) {}

  @Get()
  @Returns(page(API_KEY))
  async list(@Query() query: PageQuery): Promise<Page<ApiKeyRecord>> {
    const rows = await this.keys.list(query.limit + 1, decodeUuidCursor(query.after));
    return toPage(rows, query.limit, (r) => r.id);
  }

  /** Any key may read what it is: the console shows only what its scopes allow. */
  @Get('me')
  @RequireScopes()
  @ApiOperation({ summary: 'The calling key: its name, prefix, scopes and expiry' })
  @Returns(CURRENT_API_KEY)
  me(@Req() req: AuthenticatedRequest): Pick<ApiKeyRecord, 'id' | 'name' | 'prefix' | 'scopes' | 'expiresAt'> {
    const { id, name, prefix, scopes, expiresAt } = req.apiKey!;
    return { id, name, prefix, scopes, expiresAt };
  }

  /** The key is in this response only; Plexus keeps its hash. Any key may mint keys no broader than itself. */
  @Post()
  @RequireScopes()
  @ApiOperation({ summary: 'Creates a key (shown once) with at most the scopes and lifetime of the calling key' })
  @Returns(CREATED_API_KEY, 201)
  async create(
    @Body() body: CreateApiKeyDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<ApiKeyRecord & { key: string }> {
    const creator = req.apiKey!;
    const request = { scopes: body.scopes ?? (creator.scopes as Scope[]), expiresAt: body.expiresAt ?? null };
    const refused = mintProblem(creator, request);
    if (refused) {
      throw new BadRequestException({
        message: `Invalid request: ${refused.field} (${refused.problem})`,
        details: [{ field: refused.field, problems: [refused.problem] }],
      });
    }
    const key = generateApiKey();
    const record = await this.keys.insert({ name: body.name, key, ...request, createdBy: creator.id });
    return { ...record, key };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revokes a key (409 for the last live admin key)' })
  async revoke(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    const outcome = await this.keys.revoke(id);
    if (outcome === 'not-found') throw new NotFoundException(`No active API key ${id}`);
    if (outcome === 'last-admin')
      throw new ConflictException(`API key ${id} is the last admin key: create another admin key first`);
  }
}
