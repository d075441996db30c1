import { ApiPropertyOptional } from '@nestjs/swagger';
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

export function decodeCursor(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString('utf8');
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
