import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, PartialType } from '@nestjs/swagger';
import { IsArray, IsOptional, IsString, MaxLength } from 'class-validator';
import { ComputedTraitService, type ComputedTraitView } from '@plexus/audiences';
import { RequireScopes } from '../auth/scopes.js';
import { list, Returns } from '../openapi/response-schema.js';
import { COMPUTED_TRAIT } from './audience-responses.js';

export class ComputedTraitDto {
  @ApiProperty({ example: 'orders_90d', description: 'used in rules as { "computed": "orders_90d", … }' })
  @IsString()
  @MaxLength(100)
  name!: string;

  @ApiProperty({ example: 'Order Completed' })
  @IsString()
  @MaxLength(200)
  event!: string;

  @ApiPropertyOptional({ example: '90d', description: '<n>d or <n>h; absent = all time' })
  @IsOptional()
  @IsString()
  within?: string;

  @ApiPropertyOptional({ example: [{ property: 'total', op: 'gt', value: 0 }] })
  @IsOptional()
  @IsArray()
  where?: unknown[];

  @ApiProperty({ enum: ['count', 'sum', 'min', 'max', 'avg', 'most_frequent', 'first', 'last'] })
  @IsString()
  aggregation!: string;

  @ApiPropertyOptional({ example: 'total', description: 'the property aggregated (all but count)' })
  @IsOptional()
  @IsString()
  property?: string;
}

export class UpdateComputedTraitDto extends PartialType(ComputedTraitDto) {}

@ApiTags('computed traits')
@ApiBearerAuth()
@Controller('v1/computed-traits')
@RequireScopes('audiences:write')
export class ComputedTraitsController {
  constructor(private readonly traits: ComputedTraitService) {}

  @Post()
  @ApiOperation({ summary: 'Define a computed trait; its values are computed for every profile at once' })
  @Returns(COMPUTED_TRAIT, 201)
  create(@Body() body: ComputedTraitDto): Promise<ComputedTraitView> {
    return this.traits.create(body);
  }

  @Get()
  @RequireScopes('read')
  @Returns(list(COMPUTED_TRAIT))
  async list(): Promise<{ data: ComputedTraitView[] }> {
    return { data: await this.traits.list() };
  }

  @Get(':id')
  @RequireScopes('read')
  @Returns(COMPUTED_TRAIT)
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<ComputedTraitView> {
    return this.traits.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the definition (not the name) and recompute every value' })
  @Returns(COMPUTED_TRAIT)
  update(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: UpdateComputedTraitDto,
  ): Promise<ComputedTraitView> {
    return this.traits.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.traits.delete(id);
  }
}
