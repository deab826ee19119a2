// Worker threads do not inherit tsx's module hooks: this plain-JS entry loads the TypeScript module
// named in workerData through tsx's API.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.module, import.meta.url);
