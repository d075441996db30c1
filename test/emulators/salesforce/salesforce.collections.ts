import type { EmulatorRequest, Reply } from '../common/server.js';
import {
  KEY_PREFIX,
  SALESFORCE_OBJECTS,
  SALESFORCE_SCHEMA,
  type SalesforceObject,
  type SalesforceRecord,
} from './salesforce.data.js';
import type { FieldValue, SalesforceObjectStore } from './salesforce.store.js';

/** sObject Collections take at most 200 records (or ids) a request. */
export const COLLECTION_LIMIT = 200;
const TEXT_MAX = 255;

/** A per-record error of a SaveResult: `{ statusCode, message, fields }`. */
interface SaveError {
  statusCode: string;
  message: string;
  fields: string[];
}
interface SaveResult {
  id?: string;
  success: boolean;
  errors: SaveError[];
  created?: boolean;
}
type Fault = (status: number, errorCode: string, message: string) => Reply;
type Incoming = Record<string, unknown> & { attributes?: { type?: unknown } };

const saveError = (statusCode: string, message: string, fields: string[] = []): SaveError => ({
  statusCode,
  message,
  fields,
});
const ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The REST API's record writes: sObject Collections (`POST` create, `PATCH` update, `PATCH …/{object}/{field}`
 * upsert by an external id, `DELETE ?ids=`), single-record `POST /sobjects/{object}` and `GET
 * /sobjects/{object}/{id}`, and `describe`. Per-record failures come back as SaveResults with HTTP 200;
 * malformed requests as `[{ message, errorCode }]`.
 */
export function recordWrites(stores: Record<SalesforceObject, SalesforceObjectStore>, fault: Fault) {
  const objectNamed = (name: string): SalesforceObject | undefined =>
    SALESFORCE_OBJECTS.find((o) => o.toLowerCase() === name.toLowerCase());

  /** Type problems Salesforce's JSON reader refuses for the whole request. */
  function unreadable(object: SalesforceObject, record: Incoming): Reply | undefined {
    for (const [field, value] of Object.entries(record)) {
      if (field === 'attributes' || field.toLowerCase() === 'id') continue;
      const def = SALESFORCE_SCHEMA[object][field];
      if (!def) return fault(400, 'INVALID_FIELD', `No such column '${field}' on sobject of type ${object}`);
      if (value === null) continue;
      const bad =
        (def.type === 'boolean' && typeof value !== 'boolean') ||
        ((def.type === 'currency' || def.type === 'double') &&
          !(
            typeof value === 'number' ||
            (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
          )) ||
        (def.type !== 'boolean' && def.type !== 'currency' && def.type !== 'double' && typeof value === 'object');
      if (bad) {
        return fault(
          400,
          'JSON_PARSER_ERROR',
          `Cannot deserialize instance of ${def.type} from ${JSON.stringify(value)} value for field ${field}`,
        );
      }
    }
    return undefined;
  }

  /** Field-level problems of one record, as SaveResult errors. */
  function fieldErrors(object: SalesforceObject, record: Incoming, creating: boolean): SaveError[] {
    const schema = SALESFORCE_SCHEMA[object];
    const errors: SaveError[] = [];
    const fixed = Object.keys(record).filter(
      (f) => f !== 'attributes' && f.toLowerCase() !== 'id' && schema[f] && !schema[f].updateable,
    );
    if (fixed.length > 0) {
      errors.push(
        saveError(
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${fixed.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          fixed,
        ),
      );
    }
    for (const [field, value] of Object.entries(record)) {
      const def = schema[field];
      if (!def || typeof value !== 'string') continue;
      if (def.type === 'email' && value !== '' && !EMAIL.test(value))
        errors.push(saveError('INVALID_EMAIL_ADDRESS', `${field}: invalid email address: ${value}`, [field]));
      if (def.type !== 'textarea' && value.length > TEXT_MAX)
        errors.push(
          saveError(
            'STRING_TOO_LONG',
            `${field}: data value too large: ${value.slice(0, 20)}… (max length=${TEXT_MAX})`,
            [field],
          ),
        );
    }
    if (creating) {
      const missing = Object.entries(schema)
        .filter(([f, def]) => def.required && (record[f] === undefined || record[f] === null || record[f] === ''))
        .map(([f]) => f);
      if (missing.length > 0)
        errors.push(
          saveError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing),
        );
    }
    if (object === 'CampaignMember' && creating) errors.push(...campaignMemberErrors(record));
    return errors;
  }

  function campaignMemberErrors(record: Incoming): SaveError[] {
    const live = (object: SalesforceObject, id: unknown) => {
      const found = typeof id === 'string' ? stores[object].get(id) : undefined;
      return found && found.IsDeleted !== true ? found : undefined;
    };
    if (record.CampaignId && !live('Campaign', record.CampaignId))
      return [saveError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['CampaignId'])];
    const person = record.ContactId ? 'ContactId' : record.LeadId ? 'LeadId' : undefined;
    if (!person)
      return [saveError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ContactId]', ['ContactId'])];
    if (!live(person === 'ContactId' ? 'Contact' : 'Lead', record[person]))
      return [saveError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [person])];
    const already = stores.CampaignMember.rowsWhere(person, String(record[person])).some((row) => {
      const m = stores.CampaignMember.table.get(row);
      return m.IsDeleted !== true && m.CampaignId === record.CampaignId;
    });
    return already ? [saveError('DUPLICATE_VALUE', 'Already a campaign member.', [])] : [];
  }

  const fieldsOf = (record: Incoming): Record<string, FieldValue> =>
    Object.fromEntries(
      Object.entries(record).filter(([f]) => f !== 'attributes' && f.toLowerCase() !== 'id'),
    ) as Record<string, FieldValue>;

  function idProblem(object: SalesforceObject, id: unknown): SaveError | undefined {
    if (id === undefined || id === null || id === '')
      return saveError('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
    if (typeof id !== 'string' || !ID.test(id) || !id.startsWith(KEY_PREFIX[object]))
      return saveError('MALFORMED_ID', `${object} ID: id value of incorrect type: ${JSON.stringify(id)}`, ['Id']);
    const found = stores[object].get(id);
    if (!found) return saveError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
    if (found.IsDeleted === true) return saveError('ENTITY_IS_DELETED', 'entity is deleted', []);
    return undefined;
  }

  /** Applies `plan` per record unless allOrNone and one failed (then every record is rolled back). */
  function commit(
    req: EmulatorRequest,
    count: number,
    check: (i: number) => SaveError[],
    apply: (i: number) => SaveResult,
    allOrNone: boolean,
  ): Reply {
    const locked = count > 0 && req.takeFault('partial-failure') !== undefined;
    if (locked) req.noteFault('record 0');
    const checkOne = (i: number): SaveError[] =>
      locked && i === 0
        ? [saveError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records', [])]
        : check(i);
    let results: SaveResult[];
    if (!allOrNone) {
      // Records are saved in order, each checked against what the ones before it wrote (a second campaign
      // member for the same person in one request is a duplicate).
      results = Array.from({ length: count }, (_, i) => {
        const errors = checkOne(i);
        return errors.length > 0 ? { success: false, errors } : apply(i);
      });
    } else {
      const errors = Array.from({ length: count }, (_, i) => checkOne(i));
      const failed = errors.some((e) => e.length > 0);
      results = errors.map((e, i) => {
        if (e.length > 0) return { success: false, errors: e };
        if (!failed) return apply(i);
        return {
          success: false,
          errors: [
            saveError(
              'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              'Record rolled back because not all records were valid and the request was using AllOrNone header',
            ),
          ],
        };
      });
    }
    return { status: 200, json: results };
  }

  function readCollection(req: EmulatorRequest): { allOrNone: boolean; records: Incoming[] } | Reply {
    let body: { allOrNone?: unknown; records?: unknown };
    try {
      body = req.json() as typeof body;
    } catch {
      return fault(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body');
    }
    if (!Array.isArray(body?.records)) return fault(400, 'INVALID_FIELD', 'records is required');
    if (body.records.length > COLLECTION_LIMIT) {
      return fault(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
      );
    }
    if (body.allOrNone !== undefined && typeof body.allOrNone !== 'boolean')
      return fault(400, 'JSON_PARSER_ERROR', 'allOrNone must be a boolean');
    return { allOrNone: body.allOrNone === true, records: body.records as Incoming[] };
  }

  function typeOf(record: Incoming): SalesforceObject | Reply {
    const type = record?.attributes?.type;
    if (typeof type !== 'string') return fault(400, 'INVALID_TYPE', 'Must send a concrete entity type.');
    return objectNamed(type) ?? fault(400, 'INVALID_TYPE', `sObject type '${type}' is not supported.`);
  }

  function collections(req: EmulatorRequest, upsertObject?: string, upsertField?: string): Reply {
    if (req.method === 'DELETE') {
      const ids = (req.query.get('ids') ?? '').split(',').filter((id) => id !== '');
      if (ids.length === 0) return fault(400, 'MISSING_ARGUMENT', 'ids is required');
      if (ids.length > COLLECTION_LIMIT)
        return fault(400, 'EXCEEDED_ID_LIMIT', `cannot delete more than ${COLLECTION_LIMIT} records in one call`);
      const allOrNone = req.query.get('allOrNone') === 'true';
      const objectOf = (id: string) => SALESFORCE_OBJECTS.find((o) => id.startsWith(KEY_PREFIX[o]));
      const reply = commit(
        req,
        ids.length,
        (i) => {
          const object = objectOf(ids[i]);
          if (!object || !ID.test(ids[i])) return [saveError('MALFORMED_ID', `malformed id ${ids[i]}`, [])];
          const problem = idProblem(object, ids[i]);
          return problem ? [problem] : [];
        },
        (i) => {
          stores[objectOf(ids[i])!].delete(ids[i]);
          return { id: ids[i], success: true, errors: [] };
        },
        allOrNone,
      );
      // Delete results name the id even when it failed.
      return { ...reply, json: (reply.json as SaveResult[]).map((r, i) => ({ ...r, id: ids[i] })) };
    }
    const read = readCollection(req);
    if ('status' in read) return read;
    const { allOrNone, records } = read;
    const types: SalesforceObject[] = [];
    for (const record of records) {
      const type = typeOf(record);
      if (typeof type !== 'string') return type;
      const problem = unreadable(type, record);
      if (problem) return problem;
      types.push(type);
    }
    if (upsertObject !== undefined) {
      const object = objectNamed(upsertObject);
      if (!object) return fault(404, 'NOT_FOUND', `The requested resource does not exist`);
      const schema = SALESFORCE_SCHEMA[object];
      const field = Object.keys(schema).find((f) => f.toLowerCase() === (upsertField ?? '').toLowerCase());
      if (!field || !(schema[field].externalId || field === 'Id'))
        return fault(400, 'INVALID_FIELD', `Field ${upsertField} is not an External ID or indexed field for ${object}`);
      const match = (record: Incoming): SalesforceRecord[] => {
        const value = JSON.stringify(record[field] ?? '').toLowerCase();
        return stores[object].all().filter((r) => JSON.stringify(r[field] ?? '').toLowerCase() === value);
      };
      return commit(
        req,
        records.length,
        (i) => {
          if (types[i] !== object)
            return [saveError('INVALID_TYPE', `record type ${types[i]} does not match the upsert object ${object}`)];
          const value = records[i][field];
          if (value === undefined || value === null || value === '')
            return [saveError('MISSING_ARGUMENT', `${field} not specified`, [field])];
          const found = match(records[i]);
          if (found.length > 1)
            return [
              saveError('DUPLICATE_EXTERNAL_ID', `${field}: more than one record found for external id field`, [field]),
            ];
          return fieldErrors(object, records[i], found.length === 0);
        },
        (i) => {
          const [found] = match(records[i]);
          if (found) {
            stores[object].update(found.Id, fieldsOf(records[i]));
            return { id: found.Id, success: true, errors: [], created: false };
          }
          return { id: stores[object].insert(fieldsOf(records[i])).Id, success: true, errors: [], created: true };
        },
        allOrNone,
      );
    }
    if (req.method === 'POST') {
      return commit(
        req,
        records.length,
        (i) =>
          records[i].id !== undefined || records[i].Id !== undefined
            ? [saveError('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id'])]
            : fieldErrors(types[i], records[i], true),
        (i) => ({ id: stores[types[i]].insert(fieldsOf(records[i])).Id, success: true, errors: [] }),
        allOrNone,
      );
    }
    if (req.method === 'PATCH') {
      return commit(
        req,
        records.length,
        (i) => {
          const problem = idProblem(types[i], records[i].id ?? records[i].Id);
          return problem ? [problem] : fieldErrors(types[i], records[i], false);
        },
        (i) => {
          const id = String(records[i].id ?? records[i].Id);
          stores[types[i]].update(id, fieldsOf(records[i]));
          return { id, success: true, errors: [] };
        },
        allOrNone,
      );
    }
    return fault(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are POST,PATCH,DELETE`);
  }

  function describe(object: SalesforceObject): Reply {
    const fields = Object.entries(SALESFORCE_SCHEMA[object]).map(([name, def]) => ({
      name,
      type: def.type,
      updateable: def.updateable === true,
      createable: def.updateable === true,
      externalId: def.externalId === true,
      idLookup: name === 'Id' || def.externalId === true,
      nillable: def.required !== true && name !== 'Id',
      length: ['string', 'email', 'phone', 'picklist'].includes(def.type) ? TEXT_MAX : 0,
    }));
    return { status: 200, json: { name: object, label: object, createable: true, updateable: true, fields } };
  }

  /** Serves `/services/data/vXX.X/composite/sobjects…` and `/sobjects/…`; undefined for other paths. */
  return function route(req: EmulatorRequest): Reply | undefined {
    const collection = /^\/services\/data\/v\d{2,3}\.\d\/composite\/sobjects(?:\/([^/]+)\/([^/]+))?\/?$/.exec(req.path);
    if (collection) {
      if (collection[1] !== undefined && req.method !== 'PATCH')
        return fault(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are PATCH`);
      return collections(req, collection[1], collection[2]);
    }
    const single = /^\/services\/data\/v\d{2,3}\.\d\/sobjects\/([^/]+)(?:\/([^/]+))?\/?$/.exec(req.path);
    if (!single) return undefined;
    const object = objectNamed(single[1]);
    if (!object) return fault(404, 'NOT_FOUND', 'The requested resource does not exist');
    const [, , rest] = single;
    if (rest === 'describe' && req.method === 'GET') return describe(object);
    if (rest !== undefined && req.method === 'GET') {
      const found = stores[object].get(rest);
      if (!found || found.IsDeleted === true) return fault(404, 'NOT_FOUND', 'The requested resource does not exist');
      return { status: 200, json: { attributes: { type: object, url: req.path }, ...found } };
    }
    if (rest === undefined && req.method === 'POST') {
      let record: Incoming;
      try {
        record = req.json() as Incoming;
      } catch {
        return fault(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body');
      }
      const problem = unreadable(object, record);
      if (problem) return problem;
      const errors = fieldErrors(object, record, true);
      if (errors.length > 0)
        return {
          status: 400,
          json: errors.map((e) => ({ message: e.message, errorCode: e.statusCode, fields: e.fields })),
        };
      return { status: 201, json: { id: stores[object].insert(fieldsOf(record)).Id, success: true, errors: [] } };
    }
    return fault(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed`);
  };
}
