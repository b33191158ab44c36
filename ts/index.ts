// netflowgen as a library: the same functions the CLI uses.
export * from './catalogue/features.js';
export * from './ingest/record.js';
export * from './serialize/store.js';
