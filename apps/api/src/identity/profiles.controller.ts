import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { Response } from 'express';
import { ProfileService, type HistoryEntry, type ProfileView, type UnmergeResult } from '@plexus/identity';
import { isIdentifierType } from '@plexus/sdk';
import type { EventRow, ProfileRow } from '@plexus/storage';
import { RequireScopes } from '../auth/scopes.js';
import { decodeCursor, decodeUuidCursor, PageQuery, toPage, type Page } from '../http/pagination.js';
import { list, page, Returns } from '../openapi/response-schema.js';
import { EVENT, HISTORY_ENTRY, PROFILE, PROFILE_OR_SUMMARY, UNMERGE_RESULT } from './identity-responses.js';

export class ProfileQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'email:alice@example.com', description: '<type>:<value>, normalised like ingest' })
  @IsOptional()
  @IsString()
  @MaxLength(600)
  @Matches(/^[a-z_0-9]+:.+$/s, { message: 'identifier must be <type>:<value>' })
  identifier?: string;

  @ApiPropertyOptional({ example: 'US', description: 'country for phone numbers without a country code' })
  @IsOptional()
  @Matches(/^[A-Za-z]{2}$/)
  country?: string;
}

export class UnmergeDto {
  @ApiPropertyOptional({ description: 'the merge to undo (from the history); default the latest' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  mergeId?: number;
}

type ProfileSummary = Pick<ProfileRow, 'id' | 'createdAt' | 'updatedAt'>;

@ApiTags('profiles')
@ApiBearerAuth()
@Controller('v1/profiles')
export class ProfilesController {
  constructor(private readonly profiles: ProfileService) {}

  @Get()
  @ApiOperation({ summary: 'Find the profile holding an identifier, or list live profiles' })
  @Returns(page(PROFILE_OR_SUMMARY))
  async list(@Query() query: ProfileQuery): Promise<Page<ProfileView | ProfileSummary>> {
    if (query.identifier) {
      const sep = query.identifier.indexOf(':');
      const type = query.identifier.slice(0, sep);
      if (!isIdentifierType(type))
        throw new BadRequestException({
          message: `Invalid request: identifier (unknown type '${type}')`,
          details: [{ field: 'identifier', problems: [`unknown identifier type '${type}'`] }],
        });
      const profile = await this.profiles.findByIdentifier(type, query.identifier.slice(sep + 1), query.country);
      return { data: profile ? [profile] : [], next: null };
    }
    const rows = await this.profiles.list(query.limit + 1, decodeUuidCursor(query.after));
    return toPage(
      rows.map((r) => ({ id: r.id, createdAt: r.createdAt, updatedAt: r.updatedAt })),
      query.limit,
      (r) => r.id,
    );
  }

  @Get('export')
  @RequireScopes('read', 'pii:read') // streamed past the masking interceptor, so only for keys that may see PII
  @ApiOperation({ summary: 'Every live profile with identifiers and traits, as NDJSON (streamed, cursor-paged)' })
  async export(@Res() res: Response): Promise<void> {
    res.status(200);
    res.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
    for await (const profile of this.profiles.exportAll()) {
      if (!res.write(`${JSON.stringify(profile)}\n`)) {
        await new Promise<void>((resolve) => res.once('drain', resolve));
      }
      if (res.destroyed) return;
    }
    res.end();
  }

  @Get(':id')
  @Returns(PROFILE)
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<ProfileView> {
    const profile = await this.profiles.get(id);
    if (!profile) throw new NotFoundException(`No profile ${id}`);
    return profile;
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'The profile’s events, newest first' })
  @Returns(page(EVENT))
  async events(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: PageQuery): Promise<Page<EventRow>> {
    const cursor = decodeCursor(query.after);
    let after: { occurredAt: Date; id: number } | undefined;
    if (cursor) {
      const [at, eventId] = cursor.split('|');
      after = { occurredAt: new Date(at ?? ''), id: Number(eventId) };
      if (Number.isNaN(after.occurredAt.getTime()) || !/^\d{1,15}$/.test(eventId ?? ''))
        throw new BadRequestException({
          message: 'Invalid request: after (is not a cursor this API issued)',
          details: [{ field: 'after', problems: ['is not a cursor this API issued'] }],
        });
    }
    const rows = await this.profiles.events(id, query.limit + 1, after);
    return toPage(rows, query.limit, (r) => `${r.occurredAt.toISOString()}|${r.id}`);
  }

  @Get(':id/history')
  @ApiOperation({ summary: 'How the profile came to be: creation and every merge, with its cause' })
  @Returns(list(HISTORY_ENTRY))
  async history(@Param('id', new ParseUUIDPipe()) id: string): Promise<{ data: HistoryEntry[] }> {
    return { data: await this.profiles.history(id) };
  }

  @Post(':id/unmerge')
  @HttpCode(200)
  @ApiOperation({ summary: 'Splits a merge back and re-resolves the records involved' })
  @Returns(UNMERGE_RESULT)
  async unmerge(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UnmergeDto): Promise<UnmergeResult> {
    return this.profiles.unmerge(id, body.mergeId);
  }
}
