// A loopback HTTP server with the Hugging Face hub's URL layout (revision API, paginated tree API, resolve with a
// redirect to a CDN path for LFS files, HTTP Range), plus fault injection: a connection dropped mid-file, corrupted
// bytes, a required token. Test helper for pull.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRepo {
  sha: string;
  files: Record<string, Buffer>;
  /** Files at or above this size are served as LFS (sha256 oid, redirect to /cdn). Default 1024. */
  lfsThreshold?: number;
  token?: string;
}

export interface HubFaults {
  /** path → byte count: the next request for that path sends the full Content-Length, then drops after this many. */
  dropAfter: Map<string, number>;
  /** paths served with one byte flipped. */
  corrupt: Set<string>;
}

export interface RecordedRequest {
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface HubServer {
  endpoint: string;
  repos: Map<string, HubRepo>;
  faults: HubFaults;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const gitSha1 = (data: Buffer): string => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  data: Buffer,
  faults: HubFaults,
  etag: string,
): void {
  let body = data;
  if (faults.corrupt.has(path)) {
    body = Buffer.from(data);
    body[body.length >> 1] = 0xff - body[body.length >> 1]!;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  if (start > body.length) return json(res, 416, { error: 'range not satisfiable' });
  const slice = body.subarray(start);
  const headers: Record<string, string> = { 'content-length': String(slice.length), etag: `"${etag}"` };
  if (range) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  res.writeHead(range ? 206 : 200, headers);
  const drop = faults.dropAfter.get(path);
  if (drop !== undefined) {
    faults.dropAfter.delete(path);
    // A graceful FIN after a short body: the client gets exactly `drop` bytes, then sees the transfer cut.
    res.write(slice.subarray(0, drop), () => res.socket?.end());
    return;
  }
  res.end(slice);
}

export async function startHubServer(repos: Record<string, HubRepo>): Promise<HubServer> {
  const state = {
    repos: new Map(Object.entries(repos)),
    faults: { dropAfter: new Map(), corrupt: new Set() } as HubFaults,
    requests: [] as RecordedRequest[],
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    state.requests.push({
      url: url.pathname + url.search,
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoName = cdn?.[1] ?? api?.[1] ?? resolve?.[1];
    const repo = repoName ? state.repos.get(repoName) : undefined;
    if (!repo) return json(res, 404, { error: 'Repository not found' });
    if (!cdn && repo.token && req.headers.authorization !== `Bearer ${repo.token}`)
      return json(res, 401, { error: 'Access to this model is restricted' });
    const threshold = repo.lfsThreshold ?? 1024;
    const paths = Object.keys(repo.files).sort();
    if (api?.[2] === 'revision') {
      if (api[3] !== 'main' && api[3] !== repo.sha) return json(res, 404, { error: 'Revision not found' });
      return json(res, 200, { id: repoName, sha: repo.sha, siblings: paths.map((rfilename) => ({ rfilename })) });
    }
    if (api?.[2] === 'tree') {
      if (api[3] !== repo.sha) return json(res, 404, { error: 'Revision not found' });
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = paths.slice(cursor, cursor + 2).map((path) => {
        const data = repo.files[path]!;
        return data.length >= threshold
          ? {
              type: 'file',
              path,
              size: 134,
              oid: gitSha1(Buffer.from(`pointer ${path}`)),
              lfs: { oid: sha256(data), size: data.length, pointerSize: 134 },
            }
          : { type: 'file', path, size: data.length, oid: gitSha1(data) };
      });
      const headers: Record<string, string> =
        cursor + 2 < paths.length
          ? { link: `</api/models/${repoName}/tree/${repo.sha}?recursive=true&cursor=${cursor + 2}>; rel="next"` }
          : {};
      return json(
        res,
        200,
        cursor === 0 ? [{ type: 'directory', path: 'onnx', oid: 'x', size: 0 }, ...page] : page,
        headers,
      );
    }
    const path = decodeURIComponent((cdn?.[2] ?? resolve?.[3])!);
    const data = repo.files[path];
    if (!data || (resolve && resolve[2] !== repo.sha)) return json(res, 404, { error: 'Entry not found' });
    if (resolve && data.length >= threshold) {
      res.writeHead(302, {
        location: `/cdn/${repoName}/${encodeURIComponent(path)}`,
        'x-linked-etag': `"${sha256(data)}"`,
        'x-linked-size': String(data.length),
      });
      return res.end();
    }
    serveBytes(req, res, path, data, state.faults, data.length >= threshold ? sha256(data) : gitSha1(data));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
