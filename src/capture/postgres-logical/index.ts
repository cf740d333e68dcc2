export { PostgresLogicalCapture, type PostgresLogicalCaptureOptions } from './postgres-logical-capture.js';
export { probePostgresLogical, logicalAvailability, type LogicalCaptureFacts } from './probe.js';
export { ORIGIN_MESSAGE_PREFIX, type TruncateHandler, type TruncateNotice } from './logical-run.js';
export { comparePositions, formatPosition, parsePosition, type LogicalPosition } from './lsn.js';
