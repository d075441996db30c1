import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';

export class CreateConnectionDto {
  @ApiProperty({ example: 'HubSpot production' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 'hubspot', description: 'connector id from GET /v1/connectors' })
  @IsString()
  @Matches(/^[a-z0-9@/_.-]+$/, { message: 'connector must be a connector id' })
  connector!: string;

  @ApiProperty({
    description: "validated against the connector's config schema; secret fields are encrypted at rest",
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  config!: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'sources only: { "cron": "*/15 * * * *" } or { "everySeconds": 900 }',
    type: 'object',
    additionalProperties: true,
    nullable: true,
  })
  @IsOptional()
  @IsObject()
  schedule?: Record<string, unknown> | null;
}

export class UpdateConnectionDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({
    description: 'JSON merge patch over the config; "********" keeps a secret',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'null removes the schedule',
    type: 'object',
    additionalProperties: true,
    nullable: true,
  })
  @IsOptional()
  @IsObject()
  schedule?: Record<string, unknown> | null;
}
