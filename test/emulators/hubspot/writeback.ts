import type { EmulatorRequest, Reply } from '../common/server.js';
import { batchAnswer, objectsNotFound } from './crm.js';
import type { HubSpotObject } from './hubspot.data.js';
import type { HubSpotState } from './hubspot.emulator.js';

/** A contact property definition (`/crm/v3/properties/contacts`). */
export interface HubSpotPropertyDefinition {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
  fieldType: string;
  groupName: string;
  hubspotDefined?: boolean;
  /** `readOnlyValue`: HubSpot computes it, writing it is refused. */
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
  hasUniqueValue?: boolean;
}

export interface HubSpotList {
  listId: string;
  name: string;
  objectTypeId: string;
  processingType: 'MANUAL' | 'DYNAMIC' | 'SNAPSHOT';
  createdAt: string;
  updatedAt: string;
  /** Record ids, in the order they were added. */
  members: Set<string>;
}

/** What the write-back endpoints change. */
export interface HubSpotWriteBackState {
  /** Contact property definitions by name. */
  properties: Map<string, HubSpotPropertyDefinition>;
  lists: Map<string, HubSpotList>;
  /** Ids of contacts permanently deleted through `gdpr-delete`. */
  gdprDeleted: string[];
}

/** Records a batch upsert accepts (HubSpot's batch limit). */
export const UPSERT_BATCH_LIMIT = 100;
/** Record ids one membership change accepts. */
export const MEMBERSHIP_BATCH_LIMIT = 100_000;
const PROPERTY_TYPES = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool'];
const FIELD_TYPES: Record<string, string[]> = {
  string: ['text', 'textarea', 'phonenumber', 'html', 'file'],
  number: ['number', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  enumeration: ['select', 'radio', 'checkbox', 'booleancheckbox'],
  bool: ['booleancheckbox'],
};
const GROUPS = new Set(['contactinformation', 'sales_properties', 'conversioninformation', 'emailinformation']);

function builtIn(): Map<string, HubSpotPropertyDefinition> {
  const text = (
    name: string,
    label: string,
    { readOnlyValue = false, ...extra }: Partial<HubSpotPropertyDefinition> & { readOnlyValue?: boolean } = {},
  ): HubSpotPropertyDefinition => ({
    name,
    label,
    type: 'string',
    fieldType: 'text',
    groupName: 'contactinformation',
    hubspotDefined: true,
    modificationMetadata: { archivable: false, readOnlyDefinition: true, readOnlyValue },
    ...extra,
  });
  const readOnly = { readOnlyValue: true };
  return new Map(
    [
      text('email', 'Email', { hasUniqueValue: true }),
      text('hs_additional_emails', 'Additional email addresses', readOnly),
      text('firstname', 'First Name'),
      text('lastname', 'Last Name'),
      text('phone', 'Phone Number', { fieldType: 'phonenumber' }),
      text('mobilephone', 'Mobile Phone Number', { fieldType: 'phonenumber' }),
      text('company', 'Company Name'),
      text('jobtitle', 'Job Title'),
      text('country', 'Country/Region'),
      text('city', 'City'),
      text('lifecyclestage', 'Lifecycle Stage', { type: 'enumeration', fieldType: 'radio' }),
      text('hs_lead_status', 'Lead Status', { type: 'enumeration', fieldType: 'radio' }),
      text('hs_email_optout', 'Unsubscribed from all email', { type: 'bool', fieldType: 'booleancheckbox' }),
      text('customer_id', 'Customer id', { hubspotDefined: false }),
      text('createdate', 'Create Date', { type: 'datetime', fieldType: 'date', ...readOnly }),
      text('lastmodifieddate', 'Last Modified Date', { type: 'datetime', fieldType: 'date', ...readOnly }),
      text('hs_object_id', 'Record ID', { type: 'number', fieldType: 'number', hasUniqueValue: true, ...readOnly }),
    ].map((p) => [p.name, p]),
  );
}

export function newWriteBackState(): HubSpotWriteBackState {
  return { properties: builtIn(), lists: new Map(), gdprDeleted: [] };
}

type ErrorReply = (status: number, category: string, message: string, extra?: Record<string, unknown>) => Reply;

function parseBody(req: EmulatorRequest, what: string, error: ErrorReply): { body: unknown } | { reply: Reply } {
  try {
    return { body: req.json() };
  } catch {
    return { reply: error(400, 'VALIDATION_ERROR', `Invalid input JSON on line 1, column 1: Cannot build ${what}`) };
  }
}

/** Why a value is not valid for a property, in HubSpot's error codes; undefined when it is. */
function invalidValue(
  property: HubSpotPropertyDefinition,
  value: unknown,
): { code: string; message: string } | undefined {
  if (property.modificationMetadata.readOnlyValue) {
    return {
      code: 'READ_ONLY_VALUE',
      message: `Property "${property.name}" is a read only property; its value cannot be set.`,
    };
  }
  if (value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    return { code: 'INVALID_OPTION', message: `${JSON.stringify(value)} is not a valid value for ${property.name}` };
  }
  const text = String(value);
  if (property.type === 'number' && !/^-?\d+(\.\d+)?$/.test(text)) {
    return { code: 'INVALID_INTEGER', message: `${text} was not a valid number.` };
  }
  if (property.type === 'bool' && text !== 'true' && text !== 'false') {
    return { code: 'INVALID_OPTION', message: `${text} was not one of the allowed options: [true, false]` };
  }
  if (
    (property.type === 'date' || property.type === 'datetime') &&
    Number.isNaN(Date.parse(text)) &&
    !/^\d+$/.test(text)
  ) {
    return { code: 'INVALID_DATE', message: `${text} was not a valid date.` };
  }
  if (property.name === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text)) {
    return { code: 'INVALID_EMAIL', message: `Email address ${text} is invalid` };
  }
  return undefined;
}

/** Every problem with a set of property values, as HubSpot's 400 body lists them. */
function propertyProblems(
  state: HubSpotWriteBackState,
  properties: Record<string, unknown>,
): Array<{ isValid: false; message: string; error: string; name: string }> {
  const problems: Array<{ isValid: false; message: string; error: string; name: string }> = [];
  for (const [name, value] of Object.entries(properties)) {
    const definition = state.properties.get(name);
    if (!definition) {
      problems.push({
        isValid: false,
        message: `Property "${name}" does not exist`,
        error: 'PROPERTY_DOESNT_EXIST',
        name,
      });
      continue;
    }
    const bad = invalidValue(definition, value);
    if (bad) problems.push({ isValid: false, message: bad.message, error: bad.code, name });
  }
  return problems;
}

function contactsByEmail(state: HubSpotState): Map<string, HubSpotObject> {
  const byEmail = new Map<string, HubSpotObject>();
  const table = state.contacts.table;
  for (let row = 0; row < table.count; row++) {
    if (table.isArchived(row)) continue;
    const contact = table.get(row);
    const email = contact.properties.email?.trim().toLowerCase();
    if (email) byEmail.set(email, contact);
  }
  return byEmail;
}

const listJson = (list: HubSpotList) => ({
  listId: list.listId,
  name: list.name,
  objectTypeId: list.objectTypeId,
  processingType: list.processingType,
  processingStatus: 'COMPLETE',
  listVersion: 1,
  size: list.members.size,
  createdAt: list.createdAt,
  updatedAt: list.updatedAt,
});

/**
 * Contact properties (`/crm/v3/properties/contacts`), batch upsert and batch read by a unique property, Lists v3
 * (create, find by name, memberships add/remove/list) and the GDPR delete; undefined for any other path.
 */
export function serveWriteBack(req: EmulatorRequest, state: HubSpotState, error: ErrorReply): Reply | undefined {
  const w = state.writeBack;
  const { method, path } = req;

  if (path === '/crm/v3/properties/contacts') {
    if (method === 'GET') return { status: 200, json: { results: [...w.properties.values()] } };
    if (method !== 'POST') return error(405, 'VALIDATION_ERROR', `Method ${method} not allowed on ${path}`);
    const parsed = parseBody(req, 'PropertyCreate', error);
    if ('reply' in parsed) return parsed.reply;
    const p = parsed.body as Partial<HubSpotPropertyDefinition> | null;
    const missing = ['name', 'label', 'type', 'fieldType', 'groupName'].filter(
      (k) => typeof (p as Record<string, unknown> | null)?.[k] !== 'string',
    );
    if (!p || missing.length > 0) {
      return error(400, 'VALIDATION_ERROR', `Invalid input: missing ${missing.join(', ')}`, {
        errors: missing.map((k) => ({ message: `${k} is required`, in: k })),
      });
    }
    if (!/^[a-z][a-z0-9_]*$/.test(p.name!)) {
      return error(
        400,
        'VALIDATION_ERROR',
        `Property name ${p.name} must start with a letter and contain only lowercase letters, numbers and underscores`,
      );
    }
    if (!PROPERTY_TYPES.includes(p.type!) || !FIELD_TYPES[p.type!].includes(p.fieldType!)) {
      return error(400, 'VALIDATION_ERROR', `fieldType ${p.fieldType} is not valid for a property of type ${p.type}`);
    }
    if (!GROUPS.has(p.groupName!))
      return error(400, 'VALIDATION_ERROR', `Property group ${p.groupName} does not exist`);
    if (w.properties.has(p.name!)) {
      return error(409, 'OBJECT_ALREADY_EXISTS', `Property named '${p.name}' already exists.`);
    }
    const created: HubSpotPropertyDefinition = {
      name: p.name!,
      label: p.label!,
      type: p.type!,
      fieldType: p.fieldType!,
      groupName: p.groupName!,
      hubspotDefined: false,
      modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
    };
    w.properties.set(created.name, created);
    return { status: 201, json: created };
  }

  if (path === '/crm/v3/objects/contacts/batch/upsert' && method === 'POST') {
    const parsed = parseBody(req, 'BatchInputSimplePublicObjectBatchInputUpsert', error);
    if ('reply' in parsed) return parsed.reply;
    const inputs = (parsed.body as { inputs?: unknown } | null)?.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0)
      return error(400, 'VALIDATION_ERROR', 'inputs must be a non-empty array');
    if (inputs.length > UPSERT_BATCH_LIMIT) {
      return error(400, 'VALIDATION_ERROR', `Batch size must be ${UPSERT_BATCH_LIMIT} or fewer inputs.`);
    }
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const problems: ReturnType<typeof propertyProblems> = [];
    for (const raw of inputs as Array<{ id?: unknown; idProperty?: unknown; properties?: unknown }>) {
      if (raw?.idProperty !== 'email') {
        return error(
          400,
          'VALIDATION_ERROR',
          `idProperty must be a property with unique values, got ${String(raw?.idProperty)}`,
        );
      }
      if (typeof raw.id !== 'string' || invalidValue(w.properties.get('email')!, raw.id)) {
        return error(400, 'VALIDATION_ERROR', `Email address ${String(raw.id)} is invalid`);
      }
      const key = raw.id.trim().toLowerCase();
      if (seen.has(key)) duplicates.push(raw.id);
      seen.add(key);
      if (raw.properties === null || typeof raw.properties !== 'object' || Array.isArray(raw.properties)) {
        return error(400, 'VALIDATION_ERROR', 'properties must be an object');
      }
      problems.push(...propertyProblems(w, raw.properties as Record<string, unknown>));
    }
    if (duplicates.length > 0) {
      return error(
        400,
        'VALIDATION_ERROR',
        `Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`,
      );
    }
    if (problems.length > 0) {
      return error(400, 'VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(problems)}`, {
        errors: problems.map((p) => ({ message: p.message, code: p.error, context: { propertyName: [p.name] } })),
      });
    }
    const byEmail = contactsByEmail(state);
    const startedAt = new Date().toISOString();
    const results = (inputs as Array<{ id: string; properties: Record<string, unknown> }>).map((input) => {
      const values = Object.fromEntries(
        Object.entries(input.properties).map(([k, v]) => [
          k,
          v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean),
        ]),
      );
      const existing = byEmail.get(input.id.trim().toLowerCase());
      const contact = existing
        ? state.contacts.update(existing.id, values)
        : state.contacts.create({ email: input.id, ...values });
      return {
        id: contact.id,
        properties: { ...values, email: contact.properties.email, hs_object_id: contact.id },
        createdAt: contact.createdAt,
        updatedAt: contact.updatedAt,
        archived: false,
        new: !existing,
      };
    });
    return { status: 200, json: { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() } };
  }

  if (path === '/crm/v3/objects/contacts/batch/read' && method === 'POST') {
    const parsed = parseBody(req, 'BatchReadInputSimplePublicObjectId', error);
    if ('reply' in parsed) return parsed.reply;
    const body = parsed.body as { idProperty?: unknown; inputs?: Array<{ id?: unknown }>; properties?: unknown };
    if (body?.idProperty === undefined) return undefined; // read by record id: the plain batch read
    if (body.idProperty !== 'email') {
      return error(
        400,
        'VALIDATION_ERROR',
        `idProperty must be a property with unique values, got ${JSON.stringify(body.idProperty)}`,
      );
    }
    const inputs = Array.isArray(body.inputs) ? body.inputs : [];
    if (inputs.length > 100) return error(400, 'VALIDATION_ERROR', 'Batch size must be 100 or fewer inputs.');
    const byEmail = contactsByEmail(state);
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const contact = byEmail.get(String(input.id).trim().toLowerCase());
      if (!contact) missing.push(String(input.id));
      else
        results.push({
          id: contact.id,
          properties: { email: contact.properties.email, hs_object_id: contact.id },
          createdAt: contact.createdAt,
          updatedAt: contact.updatedAt,
          archived: false,
        });
    }
    return batchAnswer(results, objectsNotFound('contacts', missing));
  }

  if (path === '/crm/v3/objects/contacts/gdpr-delete' && method === 'POST') {
    const parsed = parseBody(req, 'PublicGdprDeleteInput', error);
    if ('reply' in parsed) return parsed.reply;
    const body = parsed.body as { objectId?: unknown; idProperty?: unknown } | null;
    if (typeof body?.objectId !== 'string' || body.objectId === '') {
      return error(400, 'VALIDATION_ERROR', 'objectId is required', {
        errors: [{ message: 'objectId is required', in: 'objectId' }],
      });
    }
    if (body.idProperty !== undefined && body.idProperty !== 'email' && body.idProperty !== 'hs_object_id') {
      return error(
        400,
        'VALIDATION_ERROR',
        `idProperty must be a property with unique values, got ${JSON.stringify(body.idProperty)}`,
      );
    }
    const contact =
      body.idProperty === 'email'
        ? contactsByEmail(state).get(body.objectId.trim().toLowerCase())
        : state.contacts.get(body.objectId);
    if (!contact || contact.archived) return error(404, 'OBJECT_NOT_FOUND', 'resource not found');
    state.contacts.purge(contact.id);
    for (const list of w.lists.values()) list.members.delete(contact.id);
    w.gdprDeleted.push(contact.id);
    return { status: 204 };
  }

  if (!path.startsWith('/crm/v3/lists')) return undefined;

  if (path === '/crm/v3/lists' && method === 'POST') {
    const parsed = parseBody(req, 'ListCreateRequest', error);
    if ('reply' in parsed) return parsed.reply;
    const body = parsed.body as { name?: unknown; objectTypeId?: unknown; processingType?: unknown } | null;
    if (typeof body?.name !== 'string' || body.name.trim() === '')
      return error(400, 'VALIDATION_ERROR', 'name is required');
    if (typeof body.objectTypeId !== 'string' || !/^0-\d+$/.test(body.objectTypeId)) {
      return error(400, 'VALIDATION_ERROR', `objectTypeId is not valid: ${String(body.objectTypeId)}`);
    }
    if (body.processingType !== 'MANUAL' && body.processingType !== 'SNAPSHOT' && body.processingType !== 'DYNAMIC') {
      return error(
        400,
        'VALIDATION_ERROR',
        `processingType must be MANUAL, DYNAMIC or SNAPSHOT, got ${String(body.processingType)}`,
      );
    }
    if (body.processingType !== 'MANUAL') {
      return error(400, 'VALIDATION_ERROR', `a ${body.processingType} list needs a filterBranch`);
    }
    if ([...w.lists.values()].some((l) => l.name === body.name && l.objectTypeId === body.objectTypeId)) {
      return error(409, 'OBJECT_ALREADY_EXISTS', `A list named ${String(body.name)} already exists.`);
    }
    const now = new Date().toISOString();
    const list: HubSpotList = {
      listId: String(w.lists.size + 1),
      name: body.name,
      objectTypeId: body.objectTypeId,
      processingType: 'MANUAL',
      createdAt: now,
      updatedAt: now,
      members: new Set(),
    };
    w.lists.set(list.listId, list);
    return { status: 200, json: { list: listJson(list) } };
  }

  const byName = /^\/crm\/v3\/lists\/object-type-id\/([^/]+)\/name\/([^/]+)$/.exec(path);
  if (byName && method === 'GET') {
    const name = decodeURIComponent(byName[2]);
    const list = [...w.lists.values()].find((l) => l.objectTypeId === byName[1] && l.name === name);
    return list
      ? { status: 200, json: { list: listJson(list) } }
      : error(404, 'OBJECT_NOT_FOUND', `List ${name} does not exist.`);
  }

  const one = /^\/crm\/v3\/lists\/([^/]+)(?:\/memberships(?:\/(add|remove))?)?$/.exec(path);
  if (!one) return error(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${path}`);
  const list = w.lists.get(one[1]);
  if (!list) return error(404, 'OBJECT_NOT_FOUND', `List ${one[1]} does not exist.`);
  const isMembership = path.includes('/memberships');
  const change = one[2];
  if (!isMembership && method === 'GET') return { status: 200, json: { list: listJson(list) } };
  if (isMembership && change === undefined && method === 'GET') {
    const after = Number(req.query.get('after') ?? '0');
    const limit = Math.min(Number(req.query.get('limit') ?? '100'), 250);
    const members = [...list.members];
    const page = members.slice(after, after + limit);
    return {
      status: 200,
      json: {
        results: page.map((recordId) => ({ recordId, membershipTimestamp: list.updatedAt })),
        total: members.length,
        ...(after + page.length < members.length ? { paging: { next: { after: String(after + page.length) } } } : {}),
      },
    };
  }
  if (!isMembership || change === undefined || method !== 'PUT') {
    return error(405, 'VALIDATION_ERROR', `Method ${method} not allowed on ${path}`);
  }
  const parsed = parseBody(req, 'List<String>', error);
  if ('reply' in parsed) return parsed.reply;
  const ids = parsed.body;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' && typeof id !== 'number')) {
    return error(400, 'VALIDATION_ERROR', 'the body must be an array of record ids');
  }
  if (ids.length > MEMBERSHIP_BATCH_LIMIT) {
    return error(400, 'VALIDATION_ERROR', `at most ${MEMBERSHIP_BATCH_LIMIT} record ids per request`);
  }
  if (list.processingType !== 'MANUAL' && list.processingType !== 'SNAPSHOT') {
    return error(
      400,
      'VALIDATION_ERROR',
      `List ${list.listId} is a ${list.processingType} list: its memberships cannot be changed`,
    );
  }
  const done: string[] = [];
  const missing: string[] = [];
  for (const raw of ids as Array<string | number>) {
    const id = String(raw);
    const contact = state.contacts.get(id);
    if (!contact || contact.archived) {
      missing.push(id);
      continue;
    }
    if (change === 'add') list.members.add(id);
    else list.members.delete(id);
    done.push(id);
  }
  list.updatedAt = new Date().toISOString();
  return {
    status: 200,
    json:
      change === 'add'
        ? { recordIdsAdded: done, recordIdsMissing: missing }
        : { recordIdsRemoved: done, recordIdsMissing: missing },
  };
}
