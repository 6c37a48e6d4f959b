/**
 * Every path the service answers and its methods, in one table: metrics label requests by it and
 * the fallback answers 405 with `Allow` for a known path with another method (404 only for paths
 * that do not exist).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';

/** A route: its label (the path with `:params`) and the methods it answers. */
export interface RouteEntry {
  label: string;
  methods: readonly string[];
}

const ROUTES: readonly RouteEntry[] = [
  ...['sentiment', 'classify', 'generate', 'forecast', 'embed', 'similarity'].map((r) => ({ label: `/v1/${r}`, methods: ['POST'] })),
  { label: '/v1/info', methods: ['GET'] },
  { label: '/v1/samples/airline-passengers', methods: ['GET'] },
  { label: '/v1/models', methods: ['GET'] },
  { label: '/v1/models/:name/pin', methods: ['PUT'] },
  { label: '/v1/jobs', methods: ['POST'] },
  { label: '/v1/jobs/:id', methods: ['GET', 'DELETE'] },
  { label: '/v1/jobs/:id/events', methods: ['GET'] },
  ...['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/docs/', '/docs/ui/:file'].map((label) => ({ label, methods: ['GET'] })),
];

const patternOf = (label: string): RegExp => new RegExp(`^${label.replace(/:[a-z]+/g, '[^/]+').replace(/\./g, '\\.')}$`);

/** The route table of an app (`/debug/fault` only when fault injection is on). */
export function routeTable(options: { faultInjection: boolean }): Array<RouteEntry & { pattern: RegExp }> {
  const all = options.faultInjection ? [...ROUTES, { label: '/debug/fault', methods: ['POST'] }] : ROUTES;
  return all.map((r) => ({ ...r, pattern: patternOf(r.label) }));
}

/** The route a path belongs to, if any. */
export function findRoute(table: ReadonlyArray<RouteEntry & { pattern: RegExp }>, urlPath: string): RouteEntry | undefined {
  return table.find((r) => r.pattern.test(urlPath));
}

/** Whether `urlPath` is one of the static files (the demo page and its assets). */
function isStaticFile(publicDir: string, urlPath: string): boolean {
  const file = path.join(publicDir, urlPath === '/' ? 'index.html' : path.normalize(decodeURIComponent(urlPath)));
  if (!file.startsWith(publicDir + path.sep)) return false;
  return existsSync(file) && statSync(file).isFile();
}

/**
 * The last route: a known path with a method it does not answer is 405 with `Allow` (GET
 * routes and static files also answer HEAD); anything else is 404.
 */
export function methodNotAllowed(table: ReadonlyArray<RouteEntry & { pattern: RegExp }>, publicDir: string): RequestHandler {
  return (req, res, next) => {
    let decoded = true;
    try {
      decodeURIComponent(req.path);
    } catch {
      decoded = false;
    }
    const methods = findRoute(table, req.path)?.methods ?? (decoded && isStaticFile(publicDir, req.path) ? ['GET'] : undefined);
    if (methods === undefined) return next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
    res.set('Allow', (methods.includes('GET') ? [...methods, 'HEAD'] : methods).join(', '));
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${methods.join(', ')}`));
  };
}
