/** The public surface of shared documents: the service, its HTTP routes and `/yjs` endpoint, a document and its content. */
export { contentOf, restoreUpdate } from './content.ts';
export { DocConnection } from './DocConnection.ts';
export { DocService, type DocServiceOptions } from './DocService.ts';
export { Document, type DocumentLimits } from './Document.ts';
export { addDocRoutes } from './routes.ts';
export { YJS_PATH_PREFIX, YjsEndpoint } from './YjsEndpoint.ts';
