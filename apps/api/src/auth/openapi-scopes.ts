import { ModulesContainer, Reflector } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { describeRequirement, routeRequirement } from './route-scope.js';
import { SCOPE_EXTENSION } from './scopes.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * Writes what each operation requires into the OpenAPI document as `x-required-scope` (and its description),
 * from the same decorators and defaults the guard applies. Operations are matched to their handlers by the
 * operation ids Nest gives them (`<Controller>_<method>`).
 */
export function annotateScopes(app: INestApplication, document: OpenAPIObject): void {
  const reflector = app.get(Reflector);
  const controllers = new Map<string, new (...args: never[]) => unknown>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (type) controllers.set(type.name, type);
    }
  }
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation?.operationId) continue;
      const [controllerName, handlerName] = operation.operationId.split('_', 2);
      const controller = controllers.get(controllerName ?? '');
      const prototype = controller?.prototype as Record<string, unknown> | undefined;
      const handler = prototype?.[handlerName ?? ''];
      if (!controller || typeof handler !== 'function') continue;
      const required = describeRequirement(routeRequirement(reflector, handler, controller, method));
      (operation as unknown as Record<string, unknown>)[SCOPE_EXTENSION] = required;
      const note = `Requires: ${required === 'public' ? 'no API key' : `an API key with ${required}`}.`;
      operation.description = operation.description ? `${operation.description}\n\n${note}` : note;
    }
  }
}
