import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { WebhookRequest } from '@plexus/sdk';
import { WebhookService, type WebhookResponse } from '@plexus/tracking';
import { Public } from '../auth/public.decorator.js';
import type { RawBodyRequest } from './tracking-body.middleware.js';

/** Signed webhooks of sources whose connector declares one (Shopify, HubSpot, …): authenticated by the signature. */
@ApiTags('webhooks')
@Public()
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhookService) {}

  @Post(':sourceId')
  @HttpCode(200)
  @ApiOperation({ summary: "Verifies the request with the source connector's webhook and stores its records" })
  receive(@Param('sourceId') sourceId: string, @Req() req: RawBodyRequest): Promise<WebhookResponse> {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const request: WebhookRequest = {
      method: req.method,
      url: req.originalUrl,
      headers,
      rawBody: req.rawBody ?? Buffer.alloc(0),
      // What the vendor called (behind a proxy: from X-Forwarded-Proto/Host, as `trust proxy` is on).
      publicUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`,
    };
    return this.webhooks.receive(sourceId, request);
  }
}
