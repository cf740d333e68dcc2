import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { BraidError, badRequest } from '../model/errors.js';

/**
 * Which server-side files a caller may read. The CLI runs as its user and reads what that user can;
 * the HTTP API reads only inside the configured roots (`BRAID_FILE_ROOTS` and `<dataDir>/files`),
 * checked after resolving symbolic links so a link cannot lead outside them.
 */
export class FileAccess {
  constructor(
    private readonly roots: string[],
    private readonly uploadDir: string,
  ) {}

  async check(file: string, caller: 'cli' | 'api'): Promise<string> {
    if (typeof file !== 'string' || file === '') throw badRequest('invalid_file', 'file must be a path');
    const absolute = path.resolve(file);
    let real: string;
    try {
      real = await realpath(absolute);
      if (!(await stat(real)).isFile()) throw new Error('not a regular file');
    } catch (err) {
      throw badRequest('file_not_found', `cannot read ${JSON.stringify(file)}: ${(err as Error).message}`, {
        file,
      });
    }
    if (caller === 'cli') return real;
    for (const root of this.roots) {
      const realRoot = await realpath(root).catch(() => null);
      if (realRoot && (real === realRoot || real.startsWith(realRoot + path.sep))) return real;
    }
    throw new BraidError(
      403,
      'file_not_allowed',
      `${JSON.stringify(file)} is outside the directories the server may read (BRAID_FILE_ROOTS); upload the file instead`,
      { file },
    );
  }

  /** Streams an upload to a file of its own (no size limit but the disk) and answers its path. */
  async saveUpload(body: Readable, extension = '.csv'): Promise<string> {
    await mkdir(this.uploadDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.uploadDir, `${randomUUID()}${extension}`);
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
    return file;
  }

  isUpload(file: string): boolean {
    return path.dirname(file) === path.resolve(this.uploadDir);
  }
}
