import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BraidError } from '../model/errors.js';

export type Role = 'admin' | 'builder' | 'app_user';
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
}

/** What the HTTP layer needs from authentication (src/services/auth-service.ts provides it). */
export interface AuthPort {
  login(email: string, password: string): Promise<{ token: string; user: AuthUser; expiresAt: string }>;
  logout(token: string): Promise<void>;
  authenticateSession(token: string): Promise<AuthUser | null>;
  authenticateApiKey(key: string): Promise<AuthUser | null>;
  createApiKey(
    userId: string,
    name: string,
  ): Promise<{ id: string; key: string; name: string; prefix: string }>;
  createUser(input: { email: string; password: string; role: Role }): Promise<AuthUser>;
  listUsers(): Promise<AuthUser[]>;
}

export const SESSION_COOKIE = 'braid_session';

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
  }
  interface FastifyContextConfig {
    /** Routes reachable without a login (health, login, OpenAPI). */
    public?: boolean;
    /** Lowest role that may call the route (default: builder). */
    role?: Role;
  }
}

const RANK: Record<Role, number> = { app_user: 0, builder: 1, admin: 2 };

/**
 * Every /api route needs a session cookie or `Authorization: Bearer <api key>`, except the ones
 * marked public. App users reach only routes that say `role: 'app_user'`: none of the builder API.
 */
export function installAuth(app: FastifyInstance, auth: AuthPort): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const config = request.routeOptions.config;
    if (!request.url.startsWith('/api/') || config?.public) return;
    request.user = await identify(request, auth);
    if (!request.user)
      throw new BraidError(401, 'unauthenticated', 'log in or send an API key (Authorization: Bearer <key>)');
    const needed = config?.role ?? 'builder';
    if (RANK[request.user.role] < RANK[needed]) {
      throw new BraidError(403, 'forbidden', `this needs the ${needed} role; you are ${request.user.role}`);
    }
  });
}

async function identify(request: FastifyRequest, auth: AuthPort): Promise<AuthUser | null> {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return auth.authenticateApiKey(header.slice(7).trim());
  const token = request.cookies?.[SESSION_COOKIE];
  return token ? auth.authenticateSession(token) : null;
}
