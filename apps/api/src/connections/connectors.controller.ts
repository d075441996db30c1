import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ConnectorRegistry, type LoadProblem, type LoadedConnector } from '@plexus/connectors';
import { configJsonSchema, type JsonSchema } from '@plexus/sdk';
import { page, Returns } from '../openapi/response-schema.js';
import { CATALOG_ENTRY, LOAD_PROBLEM } from './connection-responses.js';

export interface CatalogEntry {
  id: string;
  kind: 'source' | 'destination';
  version: string;
  displayName: string;
  description?: string;
  sdk: string;
  secrets: string[];
  configSchema: JsonSchema;
  identifiers?: string[];
  streams?: Array<{ name: string; mode: string; primaryKey: string[]; cursorField?: string }>;
  accepts?: string[];
  purpose?: string;
  batch?: { maxItems: number; maxBytes?: number };
  uploads: boolean;
  webhook: boolean;
  /** Push sources authenticated by a write key (`http-events`): the key is issued on create and rotated later. */
  writeKey: boolean;
}

function entry(c: LoadedConnector): CatalogEntry {
  const d = c.definition;
  const base: CatalogEntry = {
    id: d.id,
    kind: d.kind,
    version: d.version,
    displayName: d.displayName,
    ...(d.description ? { description: d.description } : {}),
    sdk: d.sdk,
    secrets: d.secrets,
    configSchema: configJsonSchema(d.config as new () => object, d.secrets),
    ...(d.identifiers ? { identifiers: d.identifiers } : {}),
    uploads: false,
    webhook: false,
    writeKey: false,
  };
  if (d.kind === 'source') {
    base.streams = d.streams.map((s) => ({
      name: s.name,
      mode: s.mode,
      primaryKey: s.primaryKey,
      ...(s.cursorField ? { cursorField: s.cursorField } : {}),
    }));
    base.uploads = d.upload !== undefined;
    base.webhook = d.webhook !== undefined;
    base.writeKey = d.pushAuth === 'write-key';
  } else {
    base.accepts = d.accepts;
    base.purpose = d.purpose;
    base.batch = d.batch;
  }
  return base;
}

@ApiTags('connectors')
@ApiBearerAuth()
@Controller('v1/connectors')
export class ConnectorsController {
  constructor(private readonly registry: ConnectorRegistry) {}

  /** The catalog: every loaded connector with its config JSON Schema (secret fields marked). */
  @Get()
  @Returns(page(CATALOG_ENTRY))
  list(): { data: CatalogEntry[]; next: null } {
    return { data: this.registry.list().map(entry), next: null };
  }

  /** Plugins that were found but skipped, with the reason. */
  @Get('problems')
  @Returns(page(LOAD_PROBLEM))
  problems(): { data: LoadProblem[]; next: null } {
    return { data: this.registry.problems(), next: null };
  }

  @Get(':id')
  @Returns(CATALOG_ENTRY)
  get(@Param('id') id: string): CatalogEntry {
    const connector = this.registry.get(id);
    if (!connector) throw new NotFoundException(`No connector ${id}`);
    return entry(connector);
  }
}
