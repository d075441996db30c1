import { Global, Module } from '@nestjs/common';
import { ConnectionService } from './connection.service.js';
import { ConnectorRegistry } from './connector-registry.js';

/** Connector discovery and the configured sources and destinations. */
@Global()
@Module({ providers: [ConnectorRegistry, ConnectionService], exports: [ConnectorRegistry, ConnectionService] })
export class ConnectorsModule {}
