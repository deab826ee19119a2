/** A server that answers a missing index manifest with its web page (dev servers, single-page hosts). */
import { describe, expect, it } from 'vitest';
import { parseJsonDocument } from '../../src/core/util/web-page.ts';

const URL = './other/manifest.json';

describe('reading a JSON document from a server', () => {
  it('says a web page came instead of the manifest', () => {
    for (const page of ['<!doctype html><html><body><div id="app"></div>', '  <HTML>', '<!-- built by vite -->\n<html>']) {
      expect(() => parseJsonDocument(page, URL, 'an index manifest')).toThrow(/^the server sent a web page, not an index manifest \(wrong URL\?\)$/);
    }
  });

  it('names a file that is neither JSON nor a page, and returns JSON as it is', () => {
    expect(() => parseJsonDocument('version: 2', URL, 'an index manifest')).toThrow(`${URL} is not valid JSON`);
    expect(() => parseJsonDocument('<manifest/>', URL, 'an index manifest')).toThrow(`${URL} is not valid JSON`);
    expect(parseJsonDocument('{"version":2}', URL, 'an index manifest')).toEqual({ version: 2 });
  });
});
