export { UpdatedAtCapture, type UpdatedAtCaptureOptions } from './updated-at-capture.js';
export { SnapshotDiffCapture, type SnapshotDiffOptions } from './snapshot-diff-capture.js';
export { probePollingCapture } from './polling-common.js';
