import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, imageLimitsFromConfig, loadConfig } from '../../src/server/index.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('defaults are documented values', (t) => {
  const home = tempDir(t);
  assert.equal(loadConfig({ env: {}, flags: { home } }).home, home);
  // Without ATELIER_HOME the home is ~/.atelier (an explicit, empty config file keeps a real ~/.atelier out of it).
  writeFileSync(join(home, 'empty.yaml'), '');
  assert.equal(loadConfig({ env: {}, file: join(home, 'empty.yaml') }).home, join(homedir(), '.atelier'));
  const config = loadConfig({ env: { ATELIER_HOME: home } });
  assert.deepEqual(config, {
    host: '127.0.0.1',
    port: 8080,
    home,
    apiKeys: [],
    models: [],
    threads: 0,
    contextSize: 4096,
    modelContextSizes: {},
    kvCacheType: 'F16',
    logLevel: 'info',
    bodyLimit: 100 * 1024 * 1024,
    allowedHosts: [],
    allowedOrigins: [],
    publicUrl: '',
    python: true,
    databaseUrl: '',
    blobDir: '',
    role: 'all',
    imageFetch: 'public',
    imageFetchAllow: [],
    imageFetchTimeoutMs: 10_000,
    imageMaxBytes: 20 * 1024 * 1024,
    imageMaxRequestBytes: 50 * 1024 * 1024,
    imageMaxCount: 8,
    imageMaxSide: 8192,
    imageMaxPixels: 16_777_216,
    imageAllowVector: false,
    documentMaxBytes: 32 * 1024 * 1024,
    documentMaxPages: 50,
    documentMaxPixels: 32 * 1024 * 1024,
    documentTimeoutMs: 20_000,
  });
});

test('ATELIER_DATABASE_URL switches the store to PostgreSQL; anything but a postgres:// URL is refused', (t) => {
  const home = tempDir(t);
  const env = {
    ATELIER_HOME: home,
    ATELIER_DATABASE_URL: 'postgres://a:b@db:5432/atelier',
    ATELIER_BLOB_DIR: '/mnt/blobs',
  };
  const config = loadConfig({ env });
  assert.deepEqual([config.databaseUrl, config.blobDir], ['postgres://a:b@db:5432/atelier', '/mnt/blobs']);
  assert.throws(
    () => loadConfig({ env: { ATELIER_HOME: home, ATELIER_DATABASE_URL: 'mysql://x' } }),
    /ATELIER_DATABASE_URL/,
  );
});

test('image fetch policy and limits come from the environment; a bad allow-list entry stops the server at start', (t) => {
  const home = tempDir(t);
  const env = {
    ATELIER_HOME: home,
    ATELIER_IMAGE_FETCH: 'allow-list',
    ATELIER_IMAGE_FETCH_ALLOW: 'images.internal, 10.2.0.0/16',
    ATELIER_IMAGE_ALLOW_VECTOR: 'true',
    ATELIER_IMAGE_MAX_COUNT: '2',
  };
  const config = loadConfig({ env });
  assert.deepEqual(
    [config.imageFetch, config.imageFetchAllow, config.imageAllowVector, config.imageMaxCount],
    ['allow-list', ['images.internal', '10.2.0.0/16'], true, 2],
  );
  const limits = imageLimitsFromConfig(config);
  assert.equal(limits.fetch?.addresses.allowsAddress('10.2.3.4', 'a.example'), true);
  assert.equal(
    limits.fetch?.addresses.allowsAddress('8.8.8.8', '8.8.8.8'),
    false,
    'allow-list mode: public addresses too are refused',
  );
  assert.equal(imageLimitsFromConfig(loadConfig({ env: { ...env, ATELIER_IMAGE_FETCH: 'off' } })).fetch, null);
  assert.throws(
    () => loadConfig({ env: { ...env, ATELIER_IMAGE_ALLOW_VECTOR: 'yes' } }),
    /ATELIER_IMAGE_ALLOW_VECTOR.*must be boolean/,
  );
  assert.throws(
    () => loadConfig({ env: { ...env, ATELIER_IMAGE_FETCH: 'all' } }),
    /'imageFetch' must be equal to one of the allowed values/,
  );
  assert.throws(
    () => imageLimitsFromConfig(loadConfig({ env: { ...env, ATELIER_IMAGE_FETCH_ALLOW: 'http://x/' } })),
    /allow-list entry 'http:\/\/x\/'/,
  );
});

test('per-model context sizes and the KV cache type come from the file or the environment', (t) => {
  const home = tempDir(t);
  writeFileSync(join(home, 'config.yaml'), 'modelContextSizes:\n  qwen: 32768\n  tiny: 1024\nkvCacheType: Q8_0\n');
  const fromFile = loadConfig({ env: { ATELIER_HOME: home } });
  assert.deepEqual([fromFile.modelContextSizes, fromFile.kvCacheType], [{ qwen: 32768, tiny: 1024 }, 'Q8_0']);
  const env = {
    ATELIER_HOME: home,
    ATELIER_MODEL_CONTEXT_SIZES: 'a=8192, org/b:q4=131072',
    ATELIER_KV_CACHE_TYPE: 'Q4_0',
  };
  const fromEnv = loadConfig({ env });
  assert.deepEqual([fromEnv.modelContextSizes, fromEnv.kvCacheType], [{ a: 8192, 'org/b:q4': 131072 }, 'Q4_0']);
  assert.throws(
    () => loadConfig({ env: { ...env, ATELIER_MODEL_CONTEXT_SIZES: 'a=big' } }),
    /ATELIER_MODEL_CONTEXT_SIZES.*'modelContextSizes.a' must be integer/,
  );
  assert.throws(
    () => loadConfig({ env: { ...env, ATELIER_MODEL_CONTEXT_SIZES: 'a=64' } }),
    /'modelContextSizes.a' must be >= 128/,
  );
  assert.throws(
    () => loadConfig({ env: { ...env, ATELIER_KV_CACHE_TYPE: 'Q2_K' } }),
    /'kvCacheType' must be equal to one of the allowed values \(F16, Q8_0, Q4_0\)/,
  );
});

test('file < env < flags, and <home>/config.yaml is read when present', (t) => {
  const home = tempDir(t);
  writeFileSync(join(home, 'config.yaml'), 'port: 9000\nhost: 0.0.0.0\nmodels: [a, b]\napiKeys:\n  - sk-file-key-1\n');
  const env = { ATELIER_HOME: home, ATELIER_PORT: '9100', ATELIER_API_KEYS: 'sk-env-key-1, sk-env-key-2' };
  const config = loadConfig({ env, flags: { port: 9200 } });
  assert.equal(config.home, home);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.port, 9200);
  assert.deepEqual(config.models, ['a', 'b']);
  assert.deepEqual(config.apiKeys, ['sk-env-key-1', 'sk-env-key-2']);
  assert.equal(loadConfig({ env }).port, 9100);
});

test('malformed config names the key and where it came from', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'atelier.yaml');
  writeFileSync(file, 'port: 8080\nprot: 8081\n');
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (e: Error) =>
      e instanceof ConfigError &&
      e.message.startsWith(`config file ${file}: unknown key 'prot' (known keys: host, port,`),
  );
  writeFileSync(file, '{"port": "eighty", "logLevel": "loud"}');
  assert.throws(
    () => loadConfig({ file, env: {} }),
    /'port' must be integer; 'logLevel' must be equal to one of the allowed values \(fatal, error/,
  );
  writeFileSync(file, 'port: [1\n');
  assert.throws(() => loadConfig({ file, env: {} }), /not valid YAML\/JSON/);
  writeFileSync(file, '- a\n- b\n');
  assert.throws(() => loadConfig({ file, env: {} }), /expected a mapping of keys/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }), /cannot read it \(ENOENT\)/);
  assert.throws(
    () => loadConfig({ env: { ATELIER_PORT: 'http' } }),
    /environment variable ATELIER_PORT="http": 'port' must be integer/,
  );
  assert.throws(
    () => loadConfig({ env: { ATELIER_API_KEYS: 'short' } }),
    /ATELIER_API_KEYS.*'apiKeys.0' must NOT have fewer than 8 characters/,
  );
  assert.throws(() => loadConfig({ env: {}, flags: { port: 70000 } }), /command-line flags: 'port' must be <= 65535/);
});

test('browser defences and the public URL come from the environment; malformed ones are refused', (t) => {
  const home = tempDir(t);
  const env = {
    ATELIER_HOME: home,
    ATELIER_ALLOWED_HOSTS: 'atelier.lan, box.local',
    ATELIER_ALLOWED_ORIGINS: 'https://app.example',
    ATELIER_PUBLIC_URL: 'https://atelier.example.com/base',
  };
  const config = loadConfig({ env });
  assert.deepEqual(
    [config.allowedHosts, config.allowedOrigins, config.publicUrl],
    [['atelier.lan', 'box.local'], ['https://app.example'], 'https://atelier.example.com/base'],
  );
  assert.throws(
    () => loadConfig({ env: { ATELIER_HOME: home, ATELIER_PUBLIC_URL: 'ftp://x' } }),
    /ATELIER_PUBLIC_URL.*publicUrl/,
  );
  assert.throws(
    () => loadConfig({ env: { ATELIER_HOME: home, ATELIER_ALLOWED_ORIGINS: 'https://app.example/path' } }),
    /ATELIER_ALLOWED_ORIGINS/,
  );
  assert.throws(
    () => loadConfig({ env: { ATELIER_HOME: home, ATELIER_ALLOWED_HOSTS: 'http://atelier.lan' } }),
    /ATELIER_ALLOWED_HOSTS/,
  );
});
