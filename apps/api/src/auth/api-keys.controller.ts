import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { ApiKeyRepository, generateApiKey, type ApiKeyRecord } from '@plexus/storage';
import { decodeUuidCursor, PageQuery, toPage, type Page } from '../http/pagination.js';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci pipeline' })
  @IsString()
  @Length(1, 100)
  name!: string;
}

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyRepository) {}

  @Get()
  async list(@Query() page: PageQuery): Promise<Page<ApiKeyRecord>> {
    const rows = await this.keys.list(page.limit + 1, decodeUuidCursor(page.after));
    return toPage(rows, page.limit, (r) => r.id);
  }

  /** The key is in this response only; Plexus keeps its hash. */
  @Post()
  async create(@Body() body: CreateApiKeyDto): Promise<ApiKeyRecord & { key: string }> {
    const key = generateApiKey();
    const record = await this.keys.insert(body.name, key);
    return { ...record, key };
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    if (!(await this.keys.revoke(id))) throw new NotFoundException(`No active API key ${id}`);
  }
}
