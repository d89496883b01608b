// Public face of src/chat: chat models, request preparation and the generation loop.
export { ChatModel } from './chat-model.js';
export { ChatTemplate, type RenderOptions } from './chat-template.js';
export { prepareChat, runChat, type ChatEvent, type ChatUsage, type PreparedChat } from './chat-service.js';
export { Admission, type AdmissionOptions } from './admission.js';
export { ChatModelPool, type ChatModelPoolOptions, type ChatModelSource } from './model-pool.js';
export { completeChat, type CompleteOptions } from './complete.js';
export type { ChoiceEvent, Constraint, FinishReason, TokenLogprob } from './choice-runner.js';
export { defaultImageLimits, loadImages, type ImageLimits, type ImagePart } from './images.js';
export type { ImageFetchPolicy } from './image-source.js';
export { defaultDocumentOptions, previewDocument, type DocumentFileSource, type DocumentOptions } from './documents.js';
export { OutputParser, type OutputEvent, type OutputParserOptions } from './output-parser.js';
export { detectToolSyntax, type ToolCallSyntax } from './tool-syntax.js';
