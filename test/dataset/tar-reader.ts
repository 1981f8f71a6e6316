/** Reads a tar file back with a real tar reader (tar-stream's extract): every member, header and bytes. */
import { createReadStream } from 'node:fs';
import tar from 'tar-stream';

/** One member of a tar. */
export interface TarMember {
  readonly name: string;
  readonly mode: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly mtime: Date | undefined;
  readonly type: string | null | undefined;
  readonly data: Buffer;
}

/** Every member of `file`, in order. */
export async function readTar(file: string): Promise<TarMember[]> {
  const extract = tar.extract();
  const done = new Promise<TarMember[]>((resolve, reject) => {
    const out: TarMember[] = [];
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.push({
          name: header.name,
          mode: header.mode,
          uid: header.uid,
          gid: header.gid,
          mtime: header.mtime,
          type: header.type,
          data: Buffer.concat(chunks),
        });
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', () => resolve(out));
    extract.on('error', reject);
  });
  createReadStream(file)
    .on('error', (err) => extract.destroy(err))
    .pipe(extract);
  return done;
}
