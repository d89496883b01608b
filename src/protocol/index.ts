// Public face of src/protocol: one re-export line per module; append yours.
export * from './errors.js';
