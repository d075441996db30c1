import { Global, Module } from '@nestjs/common';
import { ConnectionSchedules } from './connection-schedules.js';
import { ConnectionSecrets } from './connection-secrets.js';
import { ConnectionService } from './connection.service.js';
import { ConnectorContexts } from './connector-contexts.js';
import { ConnectorRegistry } from './connector-registry.js';
import { OutboundPolicyInitializer } from './outbound-policy.js';

/** Connector discovery and the configured sources and destinations. */
@Global()
@Module({
  providers: [
    ConnectorRegistry,
    ConnectionSecrets,
    ConnectionSchedules,
    ConnectorContexts,
    ConnectionService,
    OutboundPolicyInitializer,
  ],
  exports: [ConnectorRegistry, ConnectionSecrets, ConnectorContexts, ConnectionService],
})
export class ConnectorsModule {}
