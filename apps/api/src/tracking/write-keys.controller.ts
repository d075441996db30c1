import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ConnectionService } from '@plexus/connectors';
import type { SourceDefinition } from '@plexus/sdk';
import type { WriteKeyInfo } from '@plexus/storage';
import { WriteKeyService } from '@plexus/tracking';
import { RequireScopes } from '../auth/scopes.js';
import { ROTATED_WRITE_KEY, WRITE_KEY } from '../connections/connection-responses.js';
import { list, Returns } from '../openapi/response-schema.js';

export class RotateWriteKeyDto {
  @ApiPropertyOptional({
    description: 'seconds the previous keys keep working (default 0: they stop now)',
    example: 3600,
    maximum: 604800,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  graceSeconds?: number;
}

/** Write keys of push sources (connector `http-events`): rotation and the list of live keys (prefixes only). */
@ApiTags('sources')
@ApiBearerAuth()
@Controller('v1/sources')
export class WriteKeysController {
  constructor(
    private readonly connections: ConnectionService,
    private readonly writeKeys: WriteKeyService,
  ) {}

  private async pushSource(id: string): Promise<void> {
    const row = await this.connections.row('source', id);
    const definition = this.connections.connector('source', row.connector).definition as SourceDefinition<unknown>;
    if (definition.pushAuth !== 'write-key')
      throw new BadRequestException(`Source ${id} (${row.connector}) has no write key`);
  }

  @Post(':id/write-key')
  @RequireScopes('sources:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issues a new write key (shown once); the previous ones stop after graceSeconds' })
  @Returns(ROTATED_WRITE_KEY)
  async rotate(
    @Param('id') id: string,
    @Body() body: RotateWriteKeyDto,
  ): Promise<{ writeKey: string; previousKeysValidUntil: Date | null }> {
    await this.pushSource(id);
    return this.writeKeys.rotate(id, body.graceSeconds ?? 0);
  }

  @Get(':id/write-keys')
  @ApiOperation({ summary: 'Live write keys of the source: id, prefix, created, expiry (never the key)' })
  @Returns(list(WRITE_KEY))
  async list(@Param('id') id: string): Promise<{ data: WriteKeyInfo[] }> {
    await this.pushSource(id);
    return { data: await this.writeKeys.list(id) };
  }
}
