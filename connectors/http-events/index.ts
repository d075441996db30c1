import { defineSource } from '@plexus/sdk';
import { HttpEventsConfig } from './config.js';

/**
 * Real-time events from websites, apps and servers through the Segment-compatible tracking API
 * (`POST /v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`, `/v1/batch`). A
 * source of this connector owns a write key (returned once when it is created; rotate it with
 * `POST /v1/sources/:id/write-key`); any Segment or RudderStack library pointed at the hub sends with it.
 * Nothing is read on a schedule: the source has no streams.
 */
export default defineSource<HttpEventsConfig>({
  id: 'http-events',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'HTTP events (Segment-compatible tracking API)',
  description:
    'Events and identities pushed by analytics.js, analytics-node, mobile and RudderStack SDKs, authenticated by a write key.',
  config: HttpEventsConfig,
  secrets: [],
  identifiers: ['user_id', 'anonymous_id', 'device_id', 'email'],
  pushAuth: 'write-key',
  ingest: (config) => ({ defaultCountry: config.defaultCountry, keepFullIp: config.keepFullIp }),
  async check() {
    // Nothing to reach: the source receives. A created source is ready as soon as its write key is in use.
  },
  streams: [],
});
