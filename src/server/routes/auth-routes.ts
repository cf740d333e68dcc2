import type { FastifyInstance } from 'fastify';
import { SESSION_COOKIE, type AuthPort } from '../auth-hook.js';
import { errorResponses } from '../schemas.js';

const userSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } },
} as const;

export function authRoutes(app: FastifyInstance, auth: AuthPort): void {
  app.post(
    '/api/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        body: {
          type: 'object',
          properties: { email: { type: 'string', minLength: 1 }, password: { type: 'string', minLength: 1 } },
          required: ['email', 'password'],
        },
        response: {
          200: { type: 'object', properties: { user: userSchema, expiresAt: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body as { email: string; password: string };
      const session = await auth.login(email, password);
      reply.setCookie(SESSION_COOKIE, session.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: request.protocol === 'https',
        expires: new Date(session.expiresAt),
      });
      return { user: session.user, expiresAt: session.expiresAt };
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { public: true }, schema: { tags: ['auth'] } },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await auth.logout(token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { role: 'app_user' },
      schema: { tags: ['auth'], response: { 200: { type: 'object', properties: { user: userSchema } } } },
    },
    async (request) => ({ user: request.user }),
  );

  app.post(
    '/api/api-keys',
    {
      config: { role: 'builder' },
      schema: {
        tags: ['auth'],
        body: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } },
        response: {
          201: {
            type: 'object',
            description: 'The key is shown once; only its hash is stored',
            properties: {
              id: { type: 'string' },
              name: { type: 'string' },
              prefix: { type: 'string' },
              key: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const name = (request.body as { name?: string } | undefined)?.name ?? 'api key';
      reply.status(201);
      return auth.createApiKey(request.user!.id, name);
    },
  );

  app.get(
    '/api/users',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['users'],
        response: { 200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } } },
      },
    },
    async () => ({ users: await auth.listUsers() }),
  );

  app.post(
    '/api/users',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['users'],
        body: {
          type: 'object',
          properties: {
            email: { type: 'string', minLength: 3 },
            password: { type: 'string', minLength: 1 },
            role: { type: 'string', enum: ['admin', 'builder', 'app_user'] },
          },
          required: ['email', 'password', 'role'],
          additionalProperties: false,
        },
        response: { 201: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return auth.createUser(
        request.body as { email: string; password: string; role: 'admin' | 'builder' | 'app_user' },
      );
    },
  );
}
