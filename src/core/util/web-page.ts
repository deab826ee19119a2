/**
 * Dev servers and single-page hosts answer a missing file with their HTML page (status 200), so a wrong
 * URL arrives as a web page where a model or a manifest was expected. Told by its first bytes.
 */
export function looksLikeWebPage(start: string): boolean {
  return /^\uFEFF?\s*<(!doctype\s+html|html|head|body|!--)/i.test(start);
}

/** What a user reads when a web page came instead of `what` ("a GGUF file", "an index manifest"). */
export function webPageMessage(what: string): string {
  return `the server sent a web page, not ${what} (wrong URL?)`;
}

/** JSON from a server, or an Error saying what came instead: a web page, or text that is not JSON. */
export function parseJsonDocument(text: string, url: string, what: string): unknown {
  if (looksLikeWebPage(text)) throw new Error(webPageMessage(what));
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url} is not valid JSON`);
  }
}
