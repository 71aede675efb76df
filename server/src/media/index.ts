export { createMediaService } from './createMediaService.ts';
export { type MediaChannel, MediaService, type MediaServiceEvents, type MediaServiceOptions } from './MediaService.ts';
