import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { unstorableStringProblem } from '@plexus/profile';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** `?limit=&after=` on every list. `after` is the opaque cursor from the previous page's `next`. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 50;

  @ApiPropertyOptional({ description: 'cursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  after?: string;
}

export interface Page<T> {
  data: T[];
  next: string | null;
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function invalidCursor(why: string): BadRequestException {
  return new BadRequestException({
    message: `Invalid request: after (${why}; pass the \`next\` of the previous page)`,
    details: [{ field: 'after', problems: [why] }],
  });
}

/**
 * The key inside a cursor from {@link encodeCursor}. Anything that is not one — not base64url, not UTF-8, holding
 * NUL — is a 400 naming `after`, never a database error.
 */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const bytes = Buffer.from(cursor, 'base64url');
  if (cursor === '' || bytes.toString('base64url') !== cursor) throw invalidCursor('is not a cursor this API issued');
  const key = bytes.toString('utf8');
  if (!Buffer.from(key, 'utf8').equals(bytes) || unstorableStringProblem(key))
    throw invalidCursor('is not a cursor this API issued');
  return key;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cursor over a uuid key. */
export function decodeUuidCursor(cursor: string | undefined): string | undefined {
  const key = decodeCursor(cursor);
  if (key !== undefined && !UUID.test(key)) throw invalidCursor('is not a cursor this API issued');
  return key;
}

/** A cursor over a positive integer key (bigserial ids), within JavaScript's safe integers. */
export function decodeIntegerCursor(cursor: string | undefined): number | undefined {
  const key = decodeCursor(cursor);
  if (key === undefined) return undefined;
  if (!/^\d{1,15}$/.test(key)) throw invalidCursor('is not a cursor this API issued');
  return Number(key);
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only says whether a next page exists.
 * `keyOf` gives the sort key the next query continues after.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): Page<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, next: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
