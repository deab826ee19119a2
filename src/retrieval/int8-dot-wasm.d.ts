/** The compiled bytes of int8-dot.wat: inlined by the Vite plugin in the app, compiled by wabt in Node
 * (package.json `imports` picks which). */
declare const bytes: Uint8Array<ArrayBuffer>;
export default bytes;
