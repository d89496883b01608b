/** atelier's settings, after defaults, config file, environment and flags are merged. */
export interface AtelierConfig {
  /** Interface to listen on. Default `127.0.0.1` (local only; use `0.0.0.0` to expose, with apiKeys). */
  host: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port: number;
  /** ATELIER_HOME: database, blobs, models. Default `~/.atelier`. */
  home: string;
  /** Accepted bearer keys for `/v1/*`; empty (default) means no authentication. */
  apiKeys: string[];
  /** Installed model names to serve; empty (default) serves every installed model, or the demo models if none. */
  models: string[];
  /** CPU threads per engine; 0 (default) lets the engine decide. */
  threads: number;
  /** Context window for chat models, in tokens, capped at each model's trained length. Default 4096. */
  contextSize: number;
  /** Context window by model name, overriding `contextSize` (also capped at the trained length). Default none. */
  modelContextSizes: Record<string, number>;
  /** GGUF KV cache type; quantized caches fit longer contexts (models with odd head sizes keep F16). Default F16. */
  kvCacheType: 'F16' | 'Q8_0' | 'Q4_0';
  /** pino level for structured logs. Default `info`. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest request body accepted, in bytes (uploads included). Default 100 MiB. */
  bodyLimit: number;
  /**
   * Which image URLs chat requests may make the server fetch: `public` (default) = public internet addresses plus
   * `imageFetchAllow`; `allow-list` = only `imageFetchAllow`; `off` = none (data URLs only). docs/SECURITY.md.
   */
  imageFetch: 'public' | 'allow-list' | 'off';
  /** Hosts, IP addresses or CIDRs image fetches may reach even when private or loopback (your image store). Default none. */
  imageFetchAllow: string[];
  /** Time for fetching one image URL, redirects included, in milliseconds. Default 10 000. */
  imageFetchTimeoutMs: number;
  /** Largest image accepted (encoded bytes), data URL or fetched. Default 20 MiB. */
  imageMaxBytes: number;
  /** Largest total of encoded image bytes in one chat request. Default 50 MiB. */
  imageMaxRequestBytes: number;
  /** Most images in one chat request. Default 8. */
  imageMaxCount: number;
  /** Largest image width or height in pixels, read from the header before decoding. Default 8192. */
  imageMaxSide: number;
  /** Largest image width × height in pixels, read from the header before decoding. Default 16 777 216 (4096²). */
  imageMaxPixels: number;
  /** Accept SVG images (rasterised at their declared size, within the pixel limits). Default false. */
  imageAllowVector: boolean;
  /** Largest PDF in a chat `file` part (data URL or uploaded file), in bytes. Default 32 MiB. */
  documentMaxBytes: number;
  /** Most PDF pages in one chat request, checked on each document's page count before reading. Default 50. */
  documentMaxPages: number;
  /** Most pixels of rendered PDF pages in one chat request (vision models). Default 33 554 432 (128 MiB of RGBA). */
  documentMaxPixels: number;
  /** Time for reading one PDF (off the event loop; the reading thread is then ended), in milliseconds. Default 20 000. */
  documentTimeoutMs: number;
  /**
   * Extra `Host` names accepted without API keys, besides 127.0.0.1, localhost, [::1], IP literals and `host`
   * (DNS-rebinding defence). `*` accepts any. Default none.
   */
  allowedHosts: string[];
  /** Browser origins (`https://app.example.com`) allowed to make state-changing requests besides the server's own. Default none. */
  allowedOrigins: string[];
  /** Base of URLs in responses (`https://atelier.example.com`); default `http://<host>:<port>` the server listens on. */
  publicUrl: string;
  /**
   * Whether this host runs the Python diffusion worker: `serve` installs its environment in the background on first
   * run and serves the Python-made demo (`atelier-demo-sd`). False (`--no-python`) makes a chat-only host. Default true.
   */
  python: boolean;
  /**
   * `postgres://user:pass@host:port/db` keeps the tables in PostgreSQL, shared by the nodes of a fleet (docs/FLEET.md);
   * empty (default) keeps them in SQLite under `home` (the `database.url` setting; config keys are flat here).
   */
  databaseUrl: string;
  /** Blob folder shared by a fleet's nodes (an NFS mount); empty (default) means `<home>/blobs`. */
  blobDir: string;
  /**
   * In a fleet (`databaseUrl` set): `api` serves the API and queues jobs, `worker` also claims and trains queued
   * fine-tuning jobs, `all` (default) both. Without `databaseUrl` the one node does everything.
   */
  role: 'api' | 'worker' | 'all';
}

/** JSON Schema of a config layer (every key optional; unknown keys rejected). */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    home: { type: 'string', minLength: 1 },
    apiKeys: { type: 'array', items: { type: 'string', minLength: 8 } },
    models: { type: 'array', items: { type: 'string', minLength: 1 } },
    threads: { type: 'integer', minimum: 0, maximum: 1024 },
    contextSize: { type: 'integer', minimum: 128, maximum: 1048576 },
    modelContextSizes: {
      type: 'object',
      propertyNames: { minLength: 1 },
      additionalProperties: { type: 'integer', minimum: 128, maximum: 1048576 },
    },
    kvCacheType: { enum: ['F16', 'Q8_0', 'Q4_0'] },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    bodyLimit: { type: 'integer', minimum: 1024 },
    imageFetch: { enum: ['public', 'allow-list', 'off'] },
    imageFetchAllow: { type: 'array', items: { type: 'string', minLength: 1 } },
    imageFetchTimeoutMs: { type: 'integer', minimum: 100, maximum: 600000 },
    imageMaxBytes: { type: 'integer', minimum: 1024 },
    imageMaxRequestBytes: { type: 'integer', minimum: 1024 },
    imageMaxCount: { type: 'integer', minimum: 0, maximum: 1000 },
    imageMaxSide: { type: 'integer', minimum: 1, maximum: 65535 },
    imageMaxPixels: { type: 'integer', minimum: 1 },
    imageAllowVector: { type: 'boolean' },
    documentMaxBytes: { type: 'integer', minimum: 1024 },
    documentMaxPages: { type: 'integer', minimum: 1, maximum: 10000 },
    documentMaxPixels: { type: 'integer', minimum: 1 },
    documentTimeoutMs: { type: 'integer', minimum: 100, maximum: 600000 },
    allowedHosts: { type: 'array', items: { type: 'string', minLength: 1, pattern: '^[^\\s/@]+$' } },
    allowedOrigins: { type: 'array', items: { type: 'string', pattern: '^https?://[^\\s/@]+$' } },
    publicUrl: { type: 'string', pattern: '^(https?://[^\\s/@?#]+(/[^\\s?#]*)?)?$' },
    python: { type: 'boolean' },
    databaseUrl: { type: 'string', pattern: '^(postgres(ql)?://\\S+)?$' },
    blobDir: { type: 'string' },
    role: { enum: ['api', 'worker', 'all'] },
  },
} as const;

/** Environment variable for each key. Lists are comma-separated, maps `name=value` pairs (`a=8192,b=32768`). `ATELIER_CONFIG` names the config file. */
export const envKeys: Record<keyof AtelierConfig, string> = {
  host: 'ATELIER_HOST',
  port: 'ATELIER_PORT',
  home: 'ATELIER_HOME',
  apiKeys: 'ATELIER_API_KEYS',
  models: 'ATELIER_MODELS',
  threads: 'ATELIER_THREADS',
  contextSize: 'ATELIER_CONTEXT_SIZE',
  modelContextSizes: 'ATELIER_MODEL_CONTEXT_SIZES',
  kvCacheType: 'ATELIER_KV_CACHE_TYPE',
  logLevel: 'ATELIER_LOG_LEVEL',
  bodyLimit: 'ATELIER_BODY_LIMIT',
  imageFetch: 'ATELIER_IMAGE_FETCH',
  imageFetchAllow: 'ATELIER_IMAGE_FETCH_ALLOW',
  imageFetchTimeoutMs: 'ATELIER_IMAGE_FETCH_TIMEOUT_MS',
  imageMaxBytes: 'ATELIER_IMAGE_MAX_BYTES',
  imageMaxRequestBytes: 'ATELIER_IMAGE_MAX_REQUEST_BYTES',
  imageMaxCount: 'ATELIER_IMAGE_MAX_COUNT',
  imageMaxSide: 'ATELIER_IMAGE_MAX_SIDE',
  imageMaxPixels: 'ATELIER_IMAGE_MAX_PIXELS',
  imageAllowVector: 'ATELIER_IMAGE_ALLOW_VECTOR',
  documentMaxBytes: 'ATELIER_DOCUMENT_MAX_BYTES',
  documentMaxPages: 'ATELIER_DOCUMENT_MAX_PAGES',
  documentMaxPixels: 'ATELIER_DOCUMENT_MAX_PIXELS',
  documentTimeoutMs: 'ATELIER_DOCUMENT_TIMEOUT_MS',
  allowedHosts: 'ATELIER_ALLOWED_HOSTS',
  allowedOrigins: 'ATELIER_ALLOWED_ORIGINS',
  publicUrl: 'ATELIER_PUBLIC_URL',
  python: 'ATELIER_USE_PYTHON',
  databaseUrl: 'ATELIER_DATABASE_URL',
  blobDir: 'ATELIER_BLOB_DIR',
  role: 'ATELIER_ROLE',
};
