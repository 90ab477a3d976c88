import { OpenAPIObject } from '@nestjs/swagger';

/** The methods an OpenAPI path item may name, in the order an Allow header lists them. */
const DOCUMENTED_METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'] as const;

/** A documented route's path as Express matches it: any case, one trailing slash or none, a parameter one segment. */
function pathPattern(template: string): RegExp {
  const parts = template.split(/\{[^}]+\}/).map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}/?$`, 'i');
}

/**
 * The methods each route of the OpenAPI document takes, so a request for a route under a method it
 * does not take is told so (405 with Allow) rather than that there is no such route (404). The
 * document is the list of routes: what it leaves out (metrics, the console) stays a 404. Only the
 * intake has a document: on the other services a wrong method on `/health` stays a 404.
 */
export class RouteMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[];

  constructor(document: OpenAPIObject) {
    this.routes = Object.entries(document.paths).map(([template, item]) => {
      const methods = new Set(DOCUMENTED_METHODS.filter((method) => item[method] !== undefined).map((method) => method.toUpperCase()));
      // Express answers HEAD with a route's GET handler.
      if (methods.has('GET')) methods.add('HEAD');
      return { pattern: pathPattern(template), methods };
    });
  }

  /** Every method some route takes at `path` (a request's path, no query), in Allow's order; empty when no route has it. */
  allowedAt(path: string): string[] {
    const allowed = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    return DOCUMENTED_METHODS.map((method) => method.toUpperCase()).filter((method) => allowed.has(method));
  }
}
