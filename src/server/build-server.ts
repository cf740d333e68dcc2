import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BraidApp } from '../services/braid-app.js';
import { installAuth } from './auth-hook.js';
import { installErrorHandler } from './error-handler.js';
import { authRoutes } from './routes/auth-routes.js';
import { builtinRoutes } from './routes/builtin-routes.js';
import { combinedMaterializeRoutes } from './routes/combined-materialize-routes.js';
import { combinedRoutes } from './routes/combined-routes.js';
import { consolidationsRoutes } from './routes/consolidations-routes.js';
import { exportsRoutes } from './routes/exports-routes.js';
import { importsRoutes } from './routes/imports-routes.js';
import { jobsRoutes } from './routes/jobs-routes.js';
import { relationsRoutes } from './routes/relations-routes.js';
import { rowsRoutes } from './routes/rows-routes.js';
import { sourcesRoutes } from './routes/sources-routes.js';
import { syncsRoutes } from './routes/syncs-routes.js';

export interface ServerOptions {
  /** Fastify logger: false in tests, pino options in `braid start`. */
  logger?: boolean | Record<string, unknown>;
  bodyLimit?: number;
}

/** The HTTP API: thin routes that parse, authorize and call the services of a BraidApp. */
export async function buildServer(braid: BraidApp, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? braid.config.bodyLimit,
    // Fastify logs method, URL and status per request, never bodies (they hold passwords when a
    // source is added); error logs carry codes and SQL, never configs.
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  });
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Braid API',
        version: '0.1.0',
        description: 'Connect, browse and edit several databases through one API.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'braid_session' },
          apiKey: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { apiKey: [] }],
    },
  });
  installErrorHandler(app);
  installAuth(app, braid.auth);

  app.get(
    '/api/health',
    {
      config: { public: true },
      schema: {
        tags: ['meta'],
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
    },
    async () => ({
      ok: true,
    }),
  );
  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  authRoutes(app, braid.auth);
  sourcesRoutes(app, braid.sources);
  builtinRoutes(app, braid.builtinTables);
  rowsRoutes(app, braid.rows, braid.sources);
  syncsRoutes(app, braid.syncs);
  jobsRoutes(app, braid.jobs);
  relationsRoutes(app, braid.relations);
  combinedRoutes(app, braid.combined);
  combinedMaterializeRoutes(app, braid.combinedMaterializations);
  importsRoutes(app, { imports: braid.imports, files: braid.files, jobs: braid.jobs });
  exportsRoutes(app, braid.exports);
  consolidationsRoutes(app, { consolidations: braid.consolidations, jobs: braid.jobs });
  await app.ready();
  return app;
}
