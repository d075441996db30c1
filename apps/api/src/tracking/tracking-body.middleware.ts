import express, { type NextFunction, type Request, type Response } from 'express';
import { errorBody } from '../http/error-body.js';
import type { TrackingRoute } from './tracking.controller.js';

const TRACKING_PATH = /^\/v1\/(identify|track|page|screen|group|alias|batch|import)\/?$/;
const WEBHOOK_PATH = /^\/v1\/webhooks\/[^/]+\/?$/;

/** Whether the tracking/webhook parsers below read this path's body (the admin API's JSON-only rule skips it). */
export function readsOwnBody(path: string): boolean {
  return TRACKING_PATH.test(path) || WEBHOOK_PATH.test(path);
}

/** A request whose raw bytes were kept (webhooks verify signatures over them). */
export type RawBodyRequest = Request & { rawBody?: Buffer };

/** Answers a tracking request whose body was read and parsed (the tracking edge). */
export type TrackingServe = (route: TrackingRoute, req: Request, res: Response) => void;

/**
 * Body handling of the tracking and webhook routes, mounted before the global JSON parser (which then skips
 * these requests): the Segment limits (32 KB a call, 500 KB a batch, measured after gzip/deflate inflation),
 * JSON sent as `text/plain` or without a content type (browsers use it to avoid a CORS preflight), CORS for
 * browser SDKs, and the exact raw bytes of webhook requests. Other routes are untouched. A tracking request
 * whose body parsed goes to `serveTracking` (the tracking edge) when given, else on to Nest's router.
 */
export function trackingBodyParsers(webhookLimit: string, serveTracking?: TrackingServe): express.RequestHandler {
  const anyType = (): boolean => true;
  const single = express.raw({ type: anyType, limit: '32kb' });
  const batch = express.raw({ type: anyType, limit: '500kb' });
  const webhook = express.raw({ type: anyType, limit: webhookLimit });
  return (req: Request, res: Response, next: NextFunction) => {
    const tracking = TRACKING_PATH.exec(req.path);
    if (tracking) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Content-Encoding');
        res.setHeader('Access-Control-Max-Age', '86400');
        res.status(204).end();
        return;
      }
    }
    const isWebhook = !tracking && WEBHOOK_PATH.test(req.path);
    if (req.method !== 'POST' || (!tracking && !isWebhook)) return next();
    const parser = isWebhook ? webhook : tracking![1] === 'batch' || tracking![1] === 'import' ? batch : single;
    const limit = isWebhook ? webhookLimit : parser === batch ? '500 KB' : '32 KB';
    parser(req, res, (error?: unknown) => {
      const requestId = (req as Request & { id?: string }).id;
      if (error) {
        const e = error as { status?: number; statusCode?: number; message?: string; type?: string };
        const status = e.status ?? e.statusCode ?? 400;
        const message =
          e.type === 'entity.too.large'
            ? `Request body is larger than ${limit}`
            : (e.message ?? 'Unreadable request body');
        res.status(status).json(errorBody(status, message, undefined, requestId));
        return;
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (isWebhook) {
        (req as RawBodyRequest).rawBody = raw;
        return next();
      }
      if (raw.length === 0) {
        req.body = undefined;
      } else {
        try {
          req.body = JSON.parse(raw.toString('utf8')) as unknown;
        } catch (parseError) {
          res
            .status(400)
            .json(errorBody(400, `Malformed JSON body: ${(parseError as Error).message}`, undefined, requestId));
          return;
        }
      }
      if (serveTracking) return serveTracking(tracking![1] as TrackingRoute, req, res);
      next();
    });
  };
}
