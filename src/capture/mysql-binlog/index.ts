export { MysqlBinlogCapture, type MysqlBinlogCaptureOptions } from './mysql-binlog-capture.js';
export { probeMysqlBinlog, missingRequirement, type BinlogCaptureFacts } from './probe.js';
export {
  comparePositions,
  fileNumber,
  formatPosition,
  parsePosition,
  type BinlogPosition,
} from './binlog-position.js';
export { ORIGIN_TABLE } from './table-decoder.js';
export type { BinlogRun } from './binlog-run.js';
