import { BadRequestException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { QUEUE_NAMES, QueueService, type FailedJob, type QueueName } from '@plexus/queue';
import { encodeCursor, decodeIntegerCursor, PageQuery, type Page } from '../http/pagination.js';
import {
  anyJson,
  integer,
  list,
  literal,
  nullable,
  object,
  oneOfStrings,
  page,
  record,
  Returns,
  string,
} from '../openapi/response-schema.js';

const QUEUE = object({
  name: oneOfStrings(QUEUE_NAMES),
  counts: record(integer(), 'jobs per state: waiting, active, delayed, prioritized, failed, completed, …'),
});

const FAILED_JOB = object({
  id: string(),
  queue: oneOfStrings(QUEUE_NAMES),
  name: string(),
  data: anyJson('the job’s payload'),
  failedReason: string(),
  attemptsMade: integer(),
  finishedOn: nullable(integer('epoch ms')),
});

function queueName(name: string): QueueName {
  if (!(QUEUE_NAMES as readonly string[]).includes(name)) {
    throw new BadRequestException({
      message: `Invalid request: queue (must be one of ${QUEUE_NAMES.join(', ')})`,
      details: [{ field: 'queue', problems: [`unknown queue ${name}`] }],
    });
  }
  return name as QueueName;
}

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/queues')
export class QueuesController {
  constructor(private readonly queues: QueueService) {}

  @Get()
  @Returns(list(QUEUE))
  async list(): Promise<{ data: Array<{ name: QueueName; counts: Record<string, number> }> }> {
    const counts = await this.queues.counts();
    return { data: QUEUE_NAMES.map((name) => ({ name, counts: counts[name] })) };
  }

  /** Failed jobs are kept (never removed automatically) so they can be inspected and retried. */
  @Get(':queue/failed')
  @Returns(page(FAILED_JOB))
  async failed(@Param('queue') queue: string, @Query() query: PageQuery): Promise<Page<FailedJob>> {
    const offset = decodeIntegerCursor(query.after) ?? 0;
    const jobs = await this.queues.failed(queueName(queue), offset, query.limit + 1);
    const data = jobs.slice(0, query.limit);
    return { data, next: jobs.length > query.limit ? encodeCursor(String(offset + query.limit)) : null };
  }

  @Post(':queue/failed/:jobId/retry')
  @HttpCode(202)
  @Returns(object({ retried: literal(true) }), 202)
  async retry(@Param('queue') queue: string, @Param('jobId') jobId: string): Promise<{ retried: true }> {
    if (!(await this.queues.retry(queueName(queue), jobId)))
      throw new NotFoundException(`No failed job ${jobId} in ${queue}`);
    return { retried: true };
  }
}
