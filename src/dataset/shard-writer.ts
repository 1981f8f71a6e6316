/**
 * One WebDataset shard: a POSIX tar (tar-stream's ustar headers) streamed to a temporary file while
 * its SHA-256 is computed, then fsynced and renamed to `<prefix>-NNNNNN.tar`. Every header field
 * that could vary between runs is fixed (mtime 0, uid/gid 0, empty user/group names, mode 0644),
 * and members are written in the order given, so the same samples always give the same bytes.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { BigGanError } from '../errors.js';
import { ioError, syncDir, tempName } from './files.js';

/** One member of a sample: `<key>.<ext>` and its bytes. */
export interface ShardMember {
  readonly name: string;
  readonly data: Buffer;
}

/** What a finished shard's record holds. */
export interface WrittenShard {
  readonly bytes: number;
  readonly sha256: string;
}

const EPOCH = new Date(0);

/** Writes one shard; `finish` publishes it, `abort` removes every trace of it. */
export class ShardWriter {
  private readonly pack = tar.pack();
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private failure: unknown;
  private readonly drained: Promise<void>;

  private constructor(
    private readonly fh: FileHandle,
    private readonly tmp: string,
    private readonly final: string,
  ) {
    this.drained = this.drain();
  }

  /** Opens `dir/<temporary name of name>` for writing. */
  static async open(dir: string, name: string): Promise<ShardWriter> {
    const tmp = path.join(dir, tempName(name));
    try {
      return new ShardWriter(await open(tmp, 'w', 0o644), tmp, path.join(dir, name));
    } catch (err) {
      throw ioError('create', tmp, err);
    }
  }

  /** Copies the tar stream to the file, hashing it; a write error (ENOSPC) is kept for add/finish. */
  private async drain(): Promise<void> {
    try {
      for await (const chunk of this.pack as AsyncIterable<Buffer>) {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        await this.fh.write(chunk);
      }
    } catch (err) {
      this.failure ??= err;
      this.pack.destroy();
    }
  }

  private check(): void {
    if (this.failure !== undefined) throw ioError('write', this.final, this.failure);
  }

  /** Appends members (in order). */
  async add(members: readonly ShardMember[]): Promise<void> {
    for (const m of members) {
      this.check();
      await new Promise<void>((resolve, reject) => {
        this.pack.entry(
          {
            name: m.name,
            size: m.data.length,
            mtime: EPOCH,
            mode: 0o644,
            uid: 0,
            gid: 0,
            uname: '',
            gname: '',
            type: 'file',
          },
          m.data,
          (err) => (err ? reject(err) : resolve()),
        );
      }).catch(async (err: unknown) => {
        // The entry fails as the pack is destroyed; the cause (ENOSPC, EFBIG) is the file write's.
        await this.drained;
        throw ioError('write', this.final, this.failure ?? err);
      });
    }
  }

  /** Ends the tar, fsyncs, renames to the final name and fsyncs the folder. */
  async finish(): Promise<WrittenShard> {
    this.check();
    this.pack.finalize();
    await this.drained;
    try {
      this.check();
      await this.fh.sync();
      await this.fh.close();
    } catch (err) {
      await this.abort();
      throw err instanceof BigGanError ? err : ioError('write', this.final, err);
    }
    try {
      await rename(this.tmp, this.final);
    } catch (err) {
      await rm(this.tmp, { force: true }).catch(() => undefined);
      throw ioError('rename into', this.final, err);
    }
    await syncDir(path.dirname(this.final));
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Stops writing and removes the temporary file (idempotent). */
  async abort(): Promise<void> {
    this.pack.destroy();
    await this.drained;
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true }).catch(() => undefined);
  }
}
