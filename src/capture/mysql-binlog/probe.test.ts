import { describe, expect, it } from 'vitest';
import { missingRequirement, type BinlogCaptureFacts } from './probe.js';

const ok: BinlogCaptureFacts = {
  logBin: true,
  binlogFormat: 'ROW',
  binlogRowImage: 'FULL',
  canReplicate: true,
  canMonitor: true,
  user: "'app'@'%'",
};

// The server here cannot be reconfigured per test (log_bin needs a restart): every branch of the
// verdict is checked on facts instead; the live probe is tested in test/capture.
describe('missingRequirement', () => {
  it('accepts a server and user that meet every requirement', () => {
    expect(missingRequirement(ok)).toBeNull();
  });

  it('names the fix for each missing requirement', () => {
    expect(missingRequirement({ ...ok, logBin: false })).toBe(
      'log_bin is OFF: set log_bin and binlog_format=ROW (server restart) or use triggers',
    );
    expect(missingRequirement({ ...ok, binlogFormat: 'MIXED' })).toMatch(
      /^binlog_format is MIXED: set binlog_format=ROW/,
    );
    expect(missingRequirement({ ...ok, binlogRowImage: 'MINIMAL' })).toMatch(
      /^binlog_row_image is MINIMAL: set binlog_row_image=FULL/,
    );
    expect(missingRequirement({ ...ok, canReplicate: false, canMonitor: false })).toMatch(
      /^user 'app'@'%' lacks REPLICATION SLAVE and REPLICATION CLIENT: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\* TO 'app'@'%'/,
    );
    expect(missingRequirement({ ...ok, canMonitor: false })).toMatch(/lacks REPLICATION CLIENT:/);
  });
});
