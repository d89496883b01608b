// Public face of src/protocol: one re-export line per module; append yours.
export * from './errors.js';
export * from './fine-tuning.js';
export * from './fine-tuning-request.js';
export * from './fine-tuning-job.js';
export * from './fine-tuning-wire.js';
export * from './pagination.js';
export * from './files.js';
export * from './chat-wire.js';
export * from './chat-request.js';
export * from './chat-response.js';
export * from './images.js';
export * from './models.js';
export * from './image-tool.js';
export * from './responses-input.js';
export * from './responses-request.js';
export * from './responses-wire.js';
export * from './responses-builder.js';
