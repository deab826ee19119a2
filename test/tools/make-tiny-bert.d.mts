/** The tiny BERT-shaped model's folder (under `.cache/`), written on first use. */
export function ensureTinyBert(): string;
export const TINY_BERT_VOCAB: string[];
