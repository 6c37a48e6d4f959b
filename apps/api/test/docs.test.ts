import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Services } from '../src/index.js';
import { NO_MODELS, startService, stopService, type TestService } from './service-helpers.js';

// No models: the docs page and its assets need none.
let services: Services;
let app: TestService['app'];

beforeAll(async () => {
  ({ services, app } = await startService({ ...NO_MODELS, logLevel: 'silent' }));
}, 60_000);

afterAll(() => stopService(services));

describe('/docs', () => {
  it('is a page that loads Swagger UI from this origin and points it at /openapi.json', async () => {
    const page = await request(app).get('/docs').expect(200).expect('Content-Type', /html/);
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toEqual(expect.arrayContaining(['/docs/ui/swagger-ui-bundle.js', '/docs/ui/swagger-ui.css', '/docs.js']));
    // Nothing from another origin: the page works offline and under the default CSP.
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    const script = await request(app).get('/docs.js').expect(200);
    expect(script.text).toContain("url: '/openapi.json'");
    expect(script.text).toContain('validatorUrl: null');
    await request(app).get('/docs/').expect(200);
  });

  it('serves the renderer from the installed swagger-ui-dist, byte for byte', async () => {
    const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    const bundle = await request(app).get('/docs/ui/swagger-ui-bundle.js').expect(200).expect('Content-Type', /javascript/);
    expect(bundle.text).toBe(readFileSync(path.join(dist, 'swagger-ui-bundle.js'), 'utf8'));
    const css = await request(app).get('/docs/ui/swagger-ui.css').expect(200).expect('Content-Type', /css/);
    expect(css.text.length).toBe(readFileSync(path.join(dist, 'swagger-ui.css'), 'utf8').length);
  });

  it('serves no other file of the package (its own index page would load the petstore)', async () => {
    for (const file of ['index.html', 'swagger-initializer.js', 'package.json', 'swagger-ui-bundle.js.map', '..%2Fpackage.json']) {
      const res = await request(app).get(`/docs/ui/${file}`);
      expect(res.status, file).toBe(404);
      expect(res.body.error.code, file).toBe('not_found');
    }
  });
});
