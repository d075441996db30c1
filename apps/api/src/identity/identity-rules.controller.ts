import { Body, Controller, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdentityRulesService, ProfileService, type DryRunReport, type RulesView } from '@plexus/identity';
import type { FlagListRow } from '@plexus/storage';
import { decodeCursor, PageQuery, toPage, type Page } from '../http/pagination.js';
import { page, Returns } from '../openapi/response-schema.js';
import { DRY_RUN, FLAG, RULES_VIEW } from './identity-responses.js';

const RULES_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  example: {
    identifiers: [{ type: 'user_id', merges: true, limit: 1, ttlDays: null }],
    priority: ['user_id', 'external_id', 'email', 'email_sha256', 'phone', 'device_id', 'anonymous_id', 'cookie_id'],
    blocked: [{ type: 'email', values: ['test@example.com'], pattern: '^noreply@' }],
    superNode: { maxPeople: 1, types: ['anonymous_id', 'cookie_id', 'device_id'] },
    traitSourcePriority: { lifecycleStage: ['crm'] },
  },
};

@ApiTags('identity')
@ApiBearerAuth()
@Controller('v1/identity')
export class IdentityRulesController {
  constructor(
    private readonly rules: IdentityRulesService,
    private readonly profiles: ProfileService,
  ) {}

  @Get('rules')
  @ApiOperation({ summary: 'The identity rules in force (the defaults until changed)' })
  @Returns(RULES_VIEW)
  async get(): Promise<RulesView> {
    return this.rules.get();
  }

  @Put('rules')
  @ApiOperation({
    summary: 'Replaces the identity rules. Applies to records ingested from now on; run a dry run first.',
  })
  @ApiBody({ schema: RULES_SCHEMA })
  @Returns(RULES_VIEW)
  async put(@Body() body: Record<string, unknown>): Promise<RulesView> {
    return this.rules.put(body);
  }

  @Post('rules/dry-run')
  @HttpCode(200)
  @ApiOperation({ summary: 'Which profiles would split or merge if these rules had applied to every stored record' })
  @ApiBody({ schema: RULES_SCHEMA })
  @Returns(DRY_RUN)
  async dryRun(@Body() body: Record<string, unknown>): Promise<DryRunReport> {
    return this.profiles.dryRun(this.rules.parse(body));
  }

  @Get('flags')
  @ApiOperation({ summary: 'Identifiers the super-node guard stopped from merging (shared devices, DMP cookies)' })
  @Returns(page(FLAG))
  async flags(@Query() query: PageQuery): Promise<Page<FlagListRow>> {
    const rows = await this.profiles.flags(query.limit + 1, decodeCursor(query.after));
    return toPage(rows, query.limit, (r) => `${r.type}:${r.value}`);
  }
}
