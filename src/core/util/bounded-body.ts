/** A response body larger than the reader allows: reading it again would not make it smaller. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** A response body read as text, refusing to read past a bound: a hostile or broken server cannot fill memory. */
export async function readBoundedText(response: Response, maxBytes: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) throw new BodyTooLargeError(`${what} is ${declared} bytes, more than the ${maxBytes} allowed`);
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(`${what} is more than the ${maxBytes} bytes allowed`);
    }
    text += decoder.decode(value, { stream: true });
  }
}
