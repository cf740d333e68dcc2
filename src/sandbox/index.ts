/** The sandbox's public surface: user JavaScript in isolated V8 isolates. */
export {
  Sandbox,
  createSandbox,
  type EvaluateOptions,
  type JsonValue,
  type SandboxOptions,
} from './sandbox.js';
export type { SandboxErrorCode } from './sandbox-errors.js';
export type { CodeMode } from './user-code.js';
