/** A readable message from anything thrown: engines, workers and fetch throw more than Error objects. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
