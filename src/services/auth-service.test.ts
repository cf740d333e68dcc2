import { describe, expect, it } from 'vitest';
import { canUseBuilder, isUserRole } from './auth-service.js';

// The login, session and API-key flows run against real metadata stores in test/meta/auth-flows.test.ts.
describe('roles', () => {
  it('lets admins and builders use the builder, not app users', () => {
    expect(canUseBuilder('admin')).toBe(true);
    expect(canUseBuilder('builder')).toBe(true);
    expect(canUseBuilder('app_user')).toBe(false);
  });

  it('recognizes exactly the three roles', () => {
    expect(['admin', 'builder', 'app_user'].every(isUserRole)).toBe(true);
    expect(isUserRole('Admin')).toBe(false);
    expect(isUserRole('owner')).toBe(false);
    expect(isUserRole(undefined)).toBe(false);
  });
});
