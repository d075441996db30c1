import { BadRequestException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { QUEUE_NAMES, QueueService, type FailedJob, type QueueName } from '@plexus/queue';
import { encodeCursor, decodeIntegerCursor, PageQuery, type Page } from '../http/pagination.js';

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
  async list(): Promise<{ data: Array<{ name: QueueName; counts: Record<string, number> }> }> {
    const counts = await this.queues.counts();
    return { data: QUEUE_NAMES.map((name) => ({ name, counts: counts[name] })) };
  }

  /** Failed jobs are kept (never removed automatically) so they can be inspected and retried. */
  @Get(':queue/failed')
  async failed(@Param('queue') queue: string, @Query() page: PageQuery): Promise<Page<FailedJob>> {
    const offset = decodeIntegerCursor(page.after) ?? 0;
    const jobs = await this.queues.failed(queueName(queue), offset, page.limit + 1);
    const data = jobs.slice(0, page.limit);
    return { data, next: jobs.length > page.limit ? encodeCursor(String(offset + page.limit)) : null };
  }

  @Post(':queue/failed/:jobId/retry')
  @HttpCode(202)
  async retry(@Param('queue') queue: string, @Param('jobId') jobId: string): Promise<{ retried: true }> {
    if (!(await this.queues.retry(queueName(queue), jobId)))
      throw new NotFoundException(`No failed job ${jobId} in ${queue}`);
    return { retried: true };
  }
}
