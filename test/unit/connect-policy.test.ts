import { describe, expect, it } from 'vitest';
import { allowedBy, allowedByAll, BASE_SOURCES, connectPolicy, connectSources, connectSourcesIn, policyOrigin } from '../../src/core/util/connect-policy.ts';
import { DEFAULT_WLLAMA_MODEL_URL } from '../../src/engines/defaults.ts';

const PAGE = 'http://127.0.0.1:4173/';

describe('the page connect policy', () => {
  it('reduces a model URL to its origin, port kept, path and query dropped', () => {
    expect(policyOrigin('https://models.example.org/q/Qwen3.gguf?download=1#x')).toBe('https://models.example.org');
    expect(policyOrigin('  http://10.0.0.5:8080/v1 ')).toBe('http://10.0.0.5:8080');
    expect(policyOrigin('HTTPS://Mirror.Example.ORG:443/m.gguf')).toBe('https://mirror.example.org');
    expect(policyOrigin('./gguf/tiny.gguf', PAGE)).toBe('http://127.0.0.1:4173');
  });

  it('never lets credentials, other schemes or characters that end a source into the policy', () => {
    const hostile = [
      'https://alice:secret@models.example.org/m.gguf',
      'javascript:alert(1)',
      'data:text/plain,x',
      'ftp://models.example.org/m.gguf',
      'https://spa ce.example.org/m.gguf',
      "https://a'b.example.org/m.gguf",
      'https://a"b.example.org/m.gguf',
      'https://a;b.example.org/m.gguf',
      "https://ok.example.org/m.gguf; script-src 'unsafe-inline'",
      'https://a,b.example.org/',
      'https://[::1]:8080/v1',
      'https://%3Bx.example.org/',
      'not a url',
      '',
    ];
    const policy = connectPolicy(connectSources(hostile, PAGE));
    for (const word of ['secret', 'alice', 'javascript', 'ftp', 'spa', "a'b", 'a"b', 'a;b', 'unsafe-inline', 'a,b', '::1', '%3B', ';x']) expect(policy).not.toContain(word);
    // Only the credentials' host is taken, without them.
    expect(connectSources(hostile, PAGE).slice(BASE_SOURCES.length)).toEqual(['https://models.example.org']);
    // One directive, sources split by single spaces, nothing that could start another directive.
    expect(policy.split(';')).toHaveLength(1);
    expect(policy).toMatch(/^connect-src( [^\s;,]+)+$/);
  });

  it('lists our origin, local servers and the default hosts, then each configured origin once', () => {
    const sources = connectSources(['https://models.example.org/a.gguf', 'https://models.example.org/b.gguf', 'http://192.168.1.9:11434/v1'], PAGE);
    expect(sources.slice(0, 3)).toEqual(["'self'", 'blob:', 'data:']);
    expect(sources).toContain('http://127.0.0.1:*');
    expect(sources.slice(BASE_SOURCES.length)).toEqual(['https://models.example.org', 'http://192.168.1.9:11434']);
  });

  it('allows the default model and the hosts the hub redirects its downloads to, and nothing else by default', () => {
    const sources = connectSources([], PAGE);
    for (const url of [
      DEFAULT_WLLAMA_MODEL_URL,
      'https://cdn-lfs-us-1.hf.co/repos/ab/cd/file',
      'https://cas-bridge.xethub.hf.co/xet-bridge-us/abc?X-Amz-Signature=1',
      'https://us.aws.cdn.hf.co/xet-bridge-us/abc',
      'https://cdn-lfs.huggingface.co/repos/x',
      'https://raw.githubusercontent.com/mlc-ai/binary-mlc-llm-libs/main/x.wasm',
      'http://127.0.0.1:8080/v1/chat/completions',
      'ws://localhost:5173/',
      `${PAGE}index/manifest.json`,
      'blob:http://127.0.0.1:4173/0b1c',
    ]) expect(allowedBy(sources, url, PAGE), url).toBe(true);
    for (const url of [
      'https://models.example.org/m.gguf',
      'https://hf.co.evil.example/m.gguf', // a suffix match must be on a label boundary
      'https://evilhf.co/m.gguf',
      'http://huggingface.co/m.gguf', // the default hosts over https only
      'https://huggingface.co:8443/m.gguf', // and on the default port only
      'http://192.0.2.1/exfiltrate',
      'http://127.0.0.2:8080/',
    ]) expect(allowedBy(sources, url, PAGE), url).toBe(false);
  });

  it('names a trailing-dot host to the letter, as Chromium matches it, and never an IPv6 literal, which it cannot name', () => {
    // The engine form accepts both (test/unit/http-url.test.ts); a policy can name only the first.
    expect(policyOrigin('http://localhost.:8080/v1')).toBe('http://localhost.:8080');
    expect(allowedBy(connectSources([], PAGE), 'http://localhost.:8080/v1/chat/completions', PAGE)).toBe(false);
    const sources = connectSources(['http://localhost.:8080/v1'], PAGE);
    expect(allowedBy(sources, 'http://localhost.:8080/v1/chat/completions', PAGE)).toBe(true);
    expect(policyOrigin('http://[::1]:8080/v1')).toBeNull();
    expect(connectSources(['http://[::1]:8080/v1'], PAGE)).toEqual(BASE_SOURCES);
  });

  it('allows a configured host on its own port, and only there', () => {
    const sources = connectSources(['https://models.example.org:8443/m.gguf'], PAGE);
    expect(allowedBy(sources, 'https://models.example.org:8443/other.gguf', PAGE)).toBe(true);
    expect(allowedBy(sources, 'https://models.example.org/m.gguf', PAGE)).toBe(false);
    expect(allowedBy(sources, 'https://sub.models.example.org:8443/m.gguf', PAGE)).toBe(false);
  });

  it('reads the page\'s policies back as the retrieval worker keeps them: a server is reachable only when every policy allows it', () => {
    const outer = "default-src 'self'; connect-src 'self' blob: https: http://127.0.0.1:*; object-src 'none'";
    const narrowed = connectPolicy(connectSources(['https://gpu.example.org/v1'], PAGE));
    const policies = [outer, narrowed].map((policy) => connectSourcesIn(policy) ?? []);
    expect(policies[0]).toEqual(["'self'", 'blob:', 'https:', 'http://127.0.0.1:*']);
    expect(connectSourcesIn("default-src 'self'")).toBeNull();
    // The outer policy allows any https host; the narrowed one only the configured server.
    expect(allowedByAll(policies, 'https://gpu.example.org/v1/embeddings', PAGE)).toBe(true);
    expect(allowedByAll(policies, 'https://elsewhere.example.net/v1/embeddings', PAGE)).toBe(false);
    expect(allowedByAll(policies, 'http://127.0.0.1:8080/v1/embeddings', PAGE)).toBe(true);
    expect(allowedByAll([], 'https://elsewhere.example.net/', PAGE)).toBe(true);
  });
});
