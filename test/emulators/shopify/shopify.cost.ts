import {
  getNamedType,
  getNullableType,
  isEnumType,
  isListType,
  isObjectType,
  isScalarType,
  Kind,
  OperationTypeNode,
  valueFromAST,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { isConnectionType } from './shopify.schema.js';

/** Largest page a connection may ask for, and the most a single query may cost. */
export const MAX_PAGE_SIZE = 250;
export const MAX_QUERY_COST = 1000;
/** What a mutation costs, whatever it selects. */
export const MUTATION_COST = 10;

export interface CostContext {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/** A connection argument Shopify refuses before running the query. */
export interface ArgumentProblem {
  message: string;
  path: string[];
}

interface Field {
  node: FieldNode;
  /** The type the field is selected on (inline fragments narrow it). */
  parent: GraphQLCompositeType;
  /** Fields under an inline fragment or spread on a type condition: only one such branch applies at runtime. */
  branch?: string;
}

/** The fields of a selection set with fragments expanded, each with the type it is selected on. */
function fieldsOf(ctx: CostContext, set: SelectionSetNode, parent: GraphQLCompositeType, branch?: string): Field[] {
  const out: Field[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) out.push({ node: selection, parent, branch });
    else {
      const fragment =
        selection.kind === Kind.INLINE_FRAGMENT ? selection : (ctx.fragments[selection.name.value] ?? undefined);
      if (!fragment) continue;
      const condition = fragment.typeCondition?.name.value;
      const type = condition ? (ctx.schema.getType(condition) as GraphQLCompositeType | undefined) : parent;
      if (!type) continue;
      const nextBranch = condition && condition !== parent.name ? condition : branch;
      out.push(...fieldsOf(ctx, fragment.selectionSet, type, nextBranch));
    }
  }
  return out;
}

function argument(ctx: CostContext, field: FieldNode, name: string): unknown {
  const arg = field.arguments?.find((a) => a.name.value === name);
  if (!arg) return undefined;
  return valueFromAST(
    arg.value,
    ctx.schema.getType(name === 'first' || name === 'last' ? 'Int' : 'String') as never,
    ctx.variables,
  );
}

function fieldType(field: Field) {
  if (field.node.name.value === '__typename') return undefined;
  if (!isObjectType(field.parent) && !('getFields' in field.parent)) return undefined;
  return (field.parent as { getFields(): Record<string, { type: unknown }> }).getFields()[field.node.name.value]
    ?.type as Parameters<typeof getNamedType>[0] | undefined;
}

/** Sums per branch: fields common to every type plus the most expensive type-specific branch. */
function combine(costs: Array<{ branch?: string; cost: number }>): number {
  let common = 0;
  const branches = new Map<string, number>();
  for (const { branch, cost } of costs) {
    if (branch === undefined) common += cost;
    else branches.set(branch, (branches.get(branch) ?? 0) + cost);
  }
  return common + Math.max(0, ...branches.values());
}

/**
 * The requested cost of a selection, as Shopify documents it: scalars and enums 0, an object 1, a connection 2
 * plus `first` (or `last`) times the cost of one node, interfaces the most expensive of their possible selections.
 * Connections without `first`/`last` or asking for more than 250 are reported as problems (unless `bulk`).
 */
export function requestedCost(
  ctx: CostContext,
  set: SelectionSetNode,
  parent: GraphQLCompositeType,
  problems: ArgumentProblem[],
  bulk = false,
  path: string[] = [],
): number {
  const costs = fieldsOf(ctx, set, parent).map((field) => {
    const type = fieldType(field);
    if (!type) return { branch: field.branch, cost: 0 };
    const named = getNamedType(type);
    if (isScalarType(named) || isEnumType(named)) return { branch: field.branch, cost: 0 };
    const here = [...path, field.node.alias?.value ?? field.node.name.value];
    const sub = field.node.selectionSet;
    if (isConnectionType(named.name)) {
      const first = argument(ctx, field.node, 'first');
      const last = argument(ctx, field.node, 'last');
      const size = typeof first === 'number' ? first : typeof last === 'number' ? last : undefined;
      if (size === undefined && !bulk) problems.push({ message: 'you must provide one of first or last', path: here });
      else if (size !== undefined && (size < 0 || size > MAX_PAGE_SIZE)) {
        problems.push({
          message: `The ${typeof first === 'number' ? 'first' : 'last'} argument must be between 0 and ${MAX_PAGE_SIZE}; got ${size}`,
          path: here,
        });
      }
      const perNode = sub ? connectionNodeCost(ctx, sub, named as GraphQLCompositeType, problems, bulk, here) : 0;
      return { branch: field.branch, cost: 2 + (size ?? 1) * perNode };
    }
    const inner = sub ? requestedCost(ctx, sub, named as GraphQLCompositeType, problems, bulk, here) : 0;
    const listed = isListType(getNullableType(type));
    const size = listed ? argument(ctx, field.node, 'first') : undefined;
    return { branch: field.branch, cost: (typeof size === 'number' ? size : 1) * (1 + inner) };
  });
  return combine(costs);
}

/** The cost of one node of a connection: 1 plus its selection, read from `edges { node }` or `nodes`. */
function connectionNodeCost(
  ctx: CostContext,
  set: SelectionSetNode,
  connection: GraphQLCompositeType,
  problems: ArgumentProblem[],
  bulk: boolean,
  path: string[],
): number {
  let cost = 0;
  for (const field of fieldsOf(ctx, set, connection)) {
    const name = field.node.name.value;
    const selection = field.node.selectionSet;
    if (!selection) continue;
    const nodeType = (typeName: string) => ctx.schema.getType(typeName) as GraphQLCompositeType;
    const base = connection.name.replace(/Connection$/, '');
    if (name === 'nodes') {
      cost = Math.max(cost, 1 + requestedCost(ctx, selection, nodeType(base), problems, bulk, [...path, 'nodes']));
    } else if (name === 'edges') {
      for (const edgeField of fieldsOf(ctx, selection, nodeType(`${base}Edge`))) {
        if (edgeField.node.name.value !== 'node' || !edgeField.node.selectionSet) continue;
        cost = Math.max(
          cost,
          1 + requestedCost(ctx, edgeField.node.selectionSet, nodeType(base), problems, bulk, [...path, 'edges']),
        );
      }
    }
  }
  return cost;
}

/**
 * The actual cost of an answer: the same rules applied to what was returned — a connection costs 2 plus its
 * returned nodes, a null object nothing.
 */
export function actualCost(
  ctx: CostContext,
  set: SelectionSetNode,
  parent: GraphQLCompositeType,
  data: unknown,
): number {
  if (data === null || data === undefined || typeof data !== 'object') return 0;
  const record = data as Record<string, unknown>;
  let cost = 0;
  for (const field of fieldsOf(ctx, set, parent)) {
    const key = field.node.alias?.value ?? field.node.name.value;
    if (!(key in record)) continue;
    const type = fieldType(field);
    if (!type) continue;
    const named = getNamedType(type);
    if (isScalarType(named) || isEnumType(named)) continue;
    const value = record[key];
    const sub = field.node.selectionSet;
    if (value === null || value === undefined || !sub) continue;
    if (isConnectionType(named.name)) {
      cost += 2;
      const base = named.name.replace(/Connection$/, '');
      const nodeType = ctx.schema.getType(base) as GraphQLCompositeType;
      const connection = value as Record<string, unknown>;
      for (const connField of fieldsOf(ctx, sub, named as GraphQLCompositeType)) {
        const connKey = connField.node.alias?.value ?? connField.node.name.value;
        const items = connection[connKey];
        if (!Array.isArray(items) || !connField.node.selectionSet) continue;
        if (connField.node.name.value === 'nodes') {
          for (const item of items) cost += 1 + actualCost(ctx, connField.node.selectionSet, nodeType, item);
        } else if (connField.node.name.value === 'edges') {
          for (const edgeField of fieldsOf(
            ctx,
            connField.node.selectionSet,
            ctx.schema.getType(`${base}Edge`) as never,
          )) {
            if (edgeField.node.name.value !== 'node' || !edgeField.node.selectionSet) continue;
            const nodeKey = edgeField.node.alias?.value ?? 'node';
            for (const edge of items as Array<Record<string, unknown>>) {
              cost += 1 + actualCost(ctx, edgeField.node.selectionSet, nodeType, edge?.[nodeKey]);
            }
          }
        }
      }
      continue;
    }
    const list = Array.isArray(value) ? value : [value];
    for (const item of list) if (item !== null) cost += 1 + actualCost(ctx, sub, named as GraphQLCompositeType, item);
  }
  return cost;
}

/** Cost of an operation: mutations a flat 10 per root field, queries by their selection. */
export function operationCost(
  ctx: CostContext,
  operation: OperationDefinitionNode,
  problems: ArgumentProblem[],
): number {
  if (operation.operation === OperationTypeNode.MUTATION) {
    return operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD).length * MUTATION_COST;
  }
  return requestedCost(ctx, operation.selectionSet, ctx.schema.getQueryType()!, problems);
}
