import { describe, expect, it } from 'vitest';
import { validateRemoteHost } from '../../src/embedders/transformers.ts';
import { validateBaseUrl } from '../../src/engines/openai.ts';
import { customModelRecord } from '../../src/engines/webllm-models.ts';
import { validateModelUrl } from '../../src/engines/wllama.ts';

/** Every field a user types a URL into, each given one on the host `host`. */
const FIELDS: Record<string, (host: string) => string> = {
  'wllama model URL': (host) => validateModelUrl(`http://${host}/q/model.gguf`),
  'OpenAI-compatible server URL': (host) => validateBaseUrl(`http://${host}/v1`),
  'WebLLM custom model': (host) => customModelRecord({ id: 'm', modelUrl: `http://${host}/w/`, modelLibUrl: `http://${host}/lib.wasm` }).model,
  'embedding model host': (host) => validateRemoteHost(`http://${host}/hf`),
};

describe('URL fields agree on what a host is', () => {
  it.each(['[::1]:8080', 'localhost.:8080', '127.0.0.1:8080', 'models.example.org', 'xn--bcher-kva.example'])('all accept %s', (host) => {
    for (const [field, validate] of Object.entries(FIELDS)) expect(() => validate(host), field).not.toThrow();
  });

  it.each(['a;b.example.org', "a'b.example.org", 'a,b.example.org', '-a.example.org', 'localhost..', '[::1', 'exa mple.org'])('all refuse %s', (host) => {
    for (const [field, validate] of Object.entries(FIELDS)) expect(() => validate(host), field).toThrow();
  });

  it('keeps an IPv6 literal and a trailing dot in the URL it returns', () => {
    expect(validateBaseUrl('http://[::1]:8080/v1/')).toBe('http://[::1]:8080/v1');
    expect(validateModelUrl('https://models.example.org./q/model.gguf#top')).toBe('https://models.example.org./q/model.gguf');
  });

  it('names the field and the fault, in the same words for every field', () => {
    expect(() => validateBaseUrl('http://a;b.example.org/v1')).toThrow('The server URL "http://a;b.example.org/v1" has no valid host name.');
    expect(() => validateModelUrl('ftp://example.org/m.gguf')).toThrow('The model URL must start with http:// or https://, not ftp: ("ftp://example.org/m.gguf").');
    expect(() => validateModelUrl('  ')).toThrow('No model URL: give one like https://…/model.gguf.');
    expect(() => validateBaseUrl('http://127.0.0.1:8080/v 1')).toThrow('The server URL "http://127.0.0.1:8080/v 1" contains white space: write a space as %20.');
  });
});
