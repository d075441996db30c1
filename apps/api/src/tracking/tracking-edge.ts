import type { Request, Response } from 'express';
import { sendError } from '../http/all-exceptions.filter.js';
import type { TrackingController } from './tracking.controller.js';
import type { TrackingServe } from './tracking-body.middleware.js';

/** The `res.locals` key under which a handler outside Nest's router names its route for the request metric. */
export const ROUTE_LABEL = 'route';

/**
 * The tracking edge: answers the Segment tracking routes without Nest's router. Browsers send one event per
 * request, so these routes take the most requests by far, and Nest's per-request work (route matching, the global
 * guard, interceptors and pipes through RxJS, `res.json` with its ETag) cost about a third of the API's CPU per
 * event (docs/BENCHMARKS.md). The edge is mounted after the request log and the security headers and after the
 * body is read, so those stay as for every route; it calls the controller's own handler and writes its answer, or
 * the error answer every route gives.
 */
export function trackingEdge(controller: TrackingController): TrackingServe {
  return (route, req: Request, res: Response) => {
    res.locals[ROUTE_LABEL] = `/v1/${route}`;
    controller.serve(route, req).then(
      (answer) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(answer));
      },
      (error: unknown) => sendError(error, res, (req as Request & { id?: string }).id, `${req.method} ${req.path}`),
    );
  };
}
