/**
 * The API's documentation, derived from the route schemas: the OpenAPI 3.1 document
 * (@fastify/swagger) at /openapi.json and Swagger UI (@fastify/swagger-ui, assets served from
 * the package, so it works offline) at /docs. Registered before the routes so it sees them all.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/** Adds the OpenAPI document and Swagger UI to `app`. */
export function registerDocs(app: FastifyInstance, version: string): void {
  // On the root context (not a child plugin), so @fastify/swagger's onRoute hook sees every route.
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'biggan-serve',
        version,
        description:
          "Serves DeepMind's BigGAN-deep generator: class-conditional, truncated and interpolated samples. The same API is available over gRPC (proto/biggan/v1/biggan.proto).",
      },
      // With a key file (--api-keys) every API route needs a key; without one the server is open
      // (the empty alternative). /healthz and /readyz are always open.
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key made with `biggan-serve keys new NAME`.',
          },
          apiKeyHeader: {
            type: 'apiKey',
            in: 'header',
            name: 'x-api-key',
            description: 'The same key in the x-api-key header.',
          },
        },
      },
      security: [{ bearerAuth: [] }, { apiKeyHeader: [] }, {}],
      tags: [
        { name: 'generate', description: 'Class-conditional samples' },
        { name: 'interpolate', description: 'Interpolations between two endpoints' },
        { name: 'models', description: 'What the server serves' },
        { name: 'operations', description: 'Probes and metrics' },
      ],
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
