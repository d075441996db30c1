import { Injectable } from '@nestjs/common';
import { ConnectorContexts, ConnectorRegistry } from '@plexus/connectors';
import type { ConnectorContext, DestinationDefinition } from '@plexus/sdk';
import { ConnectionRepository } from '@plexus/storage';

/** A configured destination ready to be written to: its connector's definition and a connection context. */
export interface OpenDestination {
  id: string;
  name: string;
  connector: string;
  definition: DestinationDefinition<unknown, unknown>;
  ctx: ConnectorContext<unknown>;
}

/** A configured destination's connector, without opening a connection. */
export interface DestinationInfo {
  id: string;
  name: string;
  connector: string;
  definition: DestinationDefinition<unknown, unknown>;
}

/** How activation reaches configured destinations: through the connectors module, never a connector by name. */
@Injectable()
export class DestinationAccess {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly registry: ConnectorRegistry,
    private readonly contexts: ConnectorContexts,
  ) {}

  /** The destination's connector, or undefined when the destination (or its connector) is gone. */
  async info(destinationId: string): Promise<DestinationInfo | undefined> {
    const row = await this.connections.find('destination', destinationId);
    if (!row) return undefined;
    const loaded = this.registry.get(row.connector);
    if (!loaded || loaded.kind !== 'destination') return undefined;
    return {
      id: row.id,
      name: row.name,
      connector: row.connector,
      definition: loaded.definition as DestinationDefinition<unknown, unknown>,
    };
  }

  /** Opens the destination: decrypted, validated config and the HTTP client with its shared rate budget. */
  async open(destinationId: string, signal: AbortSignal): Promise<OpenDestination | undefined> {
    const info = await this.info(destinationId);
    if (!info) return undefined;
    const row = (await this.connections.find('destination', destinationId))!;
    return { ...info, ctx: await this.contexts.context(row, signal) };
  }
}
