/** What an HTTP server said when it refused a request, in a line a user can read. */

/**
 * The server's own error text: OpenAI's and llama.cpp's `{"error": {"message"}}`, text-embeddings-
 * inference's and Ollama's `{"error": "…"}`, older vLLM's `{"message"}`; else the raw body, or the
 * status text. Bounded: a hostile server's megabyte of error page is cut.
 */
export async function serverErrorText(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).slice(0, 2_000);
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    // not JSON: the raw text says more than nothing
  }
  return text.slice(0, 300) || response.statusText;
}
