import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ConnectionService, type CheckResult, type ConnectionView } from '@plexus/connectors';
import type { Schedule } from '@plexus/queue';
import { RunRepository, type ConnectionKind, type QuarantinedRecord } from '@plexus/storage';
import { RunService, UploadService, type RunView } from '@plexus/sync';
import { decodeCursor, decodeIntegerCursor, PageQuery, toPage, type Page } from '../http/pagination.js';
import { CreateConnectionDto, UpdateConnectionDto } from './connection.dto.js';
import { RequireScopes } from '../auth/scopes.js';
import { page, Returns } from '../openapi/response-schema.js';
import { CHECK_RESULT, CONNECTION, QUARANTINED, RUN, RUN_STARTED, UPLOAD_STARTED } from './connection-responses.js';

abstract class ConnectionsController {
  protected abstract readonly kind: ConnectionKind;
  constructor(protected readonly connections: ConnectionService) {}

  @Post()
  @Returns(CONNECTION, 201)
  create(@Body() body: CreateConnectionDto): Promise<ConnectionView> {
    return this.connections.create(this.kind, { ...body, schedule: body.schedule as Schedule | null | undefined });
  }

  @Get()
  @RequireScopes('read')
  @Returns(page(CONNECTION))
  async list(@Query() query: PageQuery): Promise<Page<ConnectionView>> {
    const rows = await this.connections.list(this.kind, query.limit + 1, decodeCursor(query.after));
    return toPage(rows, query.limit, (r) => r.id);
  }

  @Get(':id')
  @RequireScopes('read')
  @Returns(CONNECTION)
  get(@Param('id') id: string): Promise<ConnectionView> {
    return this.connections.get(this.kind, id);
  }

  @Patch(':id')
  @Returns(CONNECTION)
  update(@Param('id') id: string, @Body() body: UpdateConnectionDto): Promise<ConnectionView> {
    return this.connections.update(this.kind, id, { ...body, schedule: body.schedule as Schedule | null | undefined });
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.connections.delete(this.kind, id);
  }

  /** Runs the connector's check with the stored config: `{ ok }` or `{ ok: false, failureType, message }`. */
  @Post(':id/check')
  @HttpCode(200)
  @Returns(CHECK_RESULT)
  check(@Param('id') id: string): Promise<CheckResult> {
    return this.connections.check(this.kind, id);
  }
}

@ApiTags('sources')
@ApiBearerAuth()
@Controller('v1/sources')
@RequireScopes('sources:write')
export class SourcesController extends ConnectionsController {
  protected readonly kind = 'source' as const;

  constructor(
    connections: ConnectionService,
    private readonly runService: RunService,
    private readonly runs: RunRepository,
    private readonly uploads: UploadService,
  ) {
    super(connections);
  }

  /** Starts a run now → 202 `{ runId }`; 409 when the source already has an active run. */
  @Post(':id/sync')
  @HttpCode(202)
  @Returns(RUN_STARTED, 202)
  async sync(@Param('id') id: string): Promise<{ runId: string }> {
    const { run } = await this.runService.start(id, 'manual');
    return { runId: run.id };
  }

  @Get(':id/runs')
  @RequireScopes('read')
  @Returns(page(RUN))
  async listRuns(@Param('id') id: string, @Query() query: PageQuery): Promise<Page<RunView>> {
    const rows = await this.runService.list(id, query.limit + 1, decodeCursor(query.after));
    return toPage(rows, query.limit, (r) => r.id);
  }

  /** Records that could not be mapped or ingested, with the source record and the reason. */
  @Get(':id/quarantine')
  @RequireScopes('read')
  @Returns(page(QUARANTINED))
  async quarantine(@Param('id') id: string, @Query() query: PageQuery): Promise<Page<QuarantinedRecord>> {
    await this.connections.row('source', id);
    const rows = await this.runs.quarantined(id, query.limit + 1, decodeIntegerCursor(query.after));
    return toPage(rows, query.limit, (r) => String(r.id));
  }

  /**
   * Streams the request body (CSV or NDJSON, gzip allowed) into the database, where every worker can read it,
   * and starts a run over it → 202 `{ runId, bytes }`. Only for connectors that accept uploads (e.g.
   * `file-import`); 413 over `UPLOAD_LIMIT`, 409 when the source already has an active run.
   */
  @Post(':id/upload')
  @HttpCode(202)
  @Returns(UPLOAD_STARTED, 202)
  async upload(@Param('id') id: string, @Req() req: Request): Promise<{ runId: string; bytes: number }> {
    const length = req.headers['content-length'];
    return this.uploads.startRun(id, req, length === undefined ? undefined : Number(length));
  }
}

@ApiTags('destinations')
@ApiBearerAuth()
@Controller('v1/destinations')
@RequireScopes('activations:write')
export class DestinationsController extends ConnectionsController {
  protected readonly kind = 'destination' as const;
  constructor(connections: ConnectionService) {
    super(connections);
  }
}

@ApiTags('sources')
@ApiBearerAuth()
@Controller('v1/runs')
@RequireScopes('sources:write')
export class RunsController {
  constructor(private readonly runs: RunService) {}

  @Get(':id')
  @RequireScopes('read')
  @Returns(RUN)
  get(@Param('id') id: string): Promise<RunView> {
    return this.runs.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @Returns(RUN, 202)
  cancel(@Param('id') id: string): Promise<RunView> {
    return this.runs.cancel(id);
  }
}
