export { TriggerCapture, probeTriggerCapture, type TriggerCaptureOptions } from './trigger-capture.js';
export type { PollingRun } from './poll-loop.js';
