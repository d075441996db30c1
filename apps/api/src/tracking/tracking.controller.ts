import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { UnauthenticatedError } from '@plexus/errors';
import { ApiBasicAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { TrackingService, writeKeyFrom, type SegmentCallType, type TrackingResponse } from '@plexus/tracking';
import { Public } from '../auth/public.decorator.js';
import { RateLimits } from '../auth/rate-limits.service.js';
import { MAX_DETAILS } from '../http/error-body.js';

const MESSAGE_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  description:
    'A Segment message: userId or anonymousId, traits / event + properties, context, timestamp, sentAt, messageId, integrations',
} as const;
const RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    success: { type: 'boolean', example: true },
    rejected: {
      type: 'array',
      description: 'batch only: messages refused (the others were stored)',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, messageId: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    rejectedOmitted: {
      type: 'integer',
      description: `refused messages left out of \`rejected\` (it lists ${MAX_DETAILS})`,
    },
  },
} as const;

/** A tracking route, by the last segment of its path (`import` is Segment's old name of `batch`). */
export type TrackingRoute = SegmentCallType | 'batch' | 'import';

/**
 * The Segment HTTP Tracking API. Authenticated by a source's write key (HTTP Basic user name, or `writeKey` in
 * the body), not by the admin key. Answers `200 {"success": true}` once the messages are stored.
 *
 * These routes take every event the hub receives one request at a time, so their requests do not go through Nest's
 * router: the tracking edge (`tracking-edge.ts`, mounted ahead of it) calls {@link serve} directly, skipping the
 * guard, interceptors and pipes, which let every public tracking request through unchanged anyway. The route
 * methods below declare the API (OpenAPI, scopes) and give the same answers through Nest's router.
 */
@ApiTags('tracking')
@ApiBasicAuth()
@Public()
@Controller('v1')
export class TrackingController {
  constructor(
    private readonly tracking: TrackingService,
    private readonly limits: RateLimits,
  ) {}

  /**
   * Answers one request of `route` whose body was read and parsed: rate limits first (failed write keys count per
   * client address like failed admin keys; each write key has its own request budget), then the call; the list of
   * refused messages is bounded like error details.
   */
  async serve(route: TrackingRoute, req: Request): Promise<TrackingResponse & { rejectedOmitted?: number }> {
    const type = route === 'import' ? 'batch' : route;
    const address = req.ip ?? 'unknown';
    await this.limits.admitTracking(address, writeKeyFrom(req.headers.authorization, req.body));
    let response: TrackingResponse;
    try {
      response = await this.tracking.handle(type, req.body, req.headers.authorization, new Date());
    } catch (error) {
      if (error instanceof UnauthenticatedError) await this.limits.recordFailure(address);
      throw error;
    }
    if (!response.rejected || response.rejected.length <= MAX_DETAILS) return response;
    return {
      ...response,
      rejected: response.rejected.slice(0, MAX_DETAILS),
      rejectedOmitted: response.rejected.length - MAX_DETAILS,
    };
  }

  @Post('identify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Who the user is, and their traits (links anonymousId to userId)' })
  @ApiBody({ schema: MESSAGE_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  identify(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('identify', req);
  }

  @Post('track')
  @HttpCode(200)
  @ApiOperation({ summary: 'An action the user performed (`event` with `properties`)' })
  @ApiBody({ schema: MESSAGE_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  track(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('track', req);
  }

  @Post('page')
  @HttpCode(200)
  @ApiOperation({ summary: 'A web page view (stored as the event `Page Viewed`)' })
  @ApiBody({ schema: MESSAGE_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  page(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('page', req);
  }

  @Post('screen')
  @HttpCode(200)
  @ApiOperation({ summary: 'A mobile screen view (stored as the event `Screen Viewed`)' })
  @ApiBody({ schema: MESSAGE_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  screen(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('screen', req);
  }

  @Post('group')
  @HttpCode(200)
  @ApiOperation({ summary: 'The account/company the user belongs to (traits `groupId`, `group`)' })
  @ApiBody({ schema: MESSAGE_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  group(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('group', req);
  }

  @Post('alias')
  @HttpCode(200)
  @ApiOperation({ summary: 'Links previousId to userId' })
  @ApiBody({ schema: MESSAGE_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  alias(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('alias', req);
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Up to 500 KB of messages (`batch`: [...], each with its `type`, at most 32 KB)' })
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        batch: { type: 'array', items: MESSAGE_SCHEMA },
        context: { type: 'object' },
        sentAt: { type: 'string' },
      },
    },
  })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  batch(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('batch', req);
  }

  @Post('import')
  @HttpCode(200)
  @ApiOperation({ summary: 'Same as batch (Segment’s historical import endpoint)' })
  @ApiBody({ schema: { type: 'object', properties: { batch: { type: 'array', items: MESSAGE_SCHEMA } } } })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  import(@Req() req: Request): Promise<TrackingResponse> {
    return this.serve('import', req);
  }
}
