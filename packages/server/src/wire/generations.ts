import type { GenerateResult, GenerationEvent as DomainEvent, GenerationHistoryItem as DomainHistoryItem, GenerationProgress } from '@comfy-vast/core';
import { imageUrl, type GenerationEvent, type GenerationHistoryItem } from '../contract/index.js';

/** The library's queued generation as `POST /comfy/:serverId/generate` answers it. */
export function toGenerateResponse(result: GenerateResult) {
  return { success: true as const, message: 'Image generation started', ...result };
}

/** The answer to a cancel: what became of the generation, in words. */
export function toCancelResponse(progress: GenerationProgress) {
  const message = progress.status === 'cancelled' ? 'Generation cancelled' : `Generation already ${progress.status}`;
  return { success: true as const, message, status: progress.status };
}

/** A generation of the history, its stored images as the URLs that download them. */
export function toHistoryItem({ images, ...item }: DomainHistoryItem): GenerationHistoryItem {
  return { ...item, imageUrls: images.map(imageUrl) };
}

/** A library event as its owner's WebSocket gets it: the owner is for routing only, images become URLs. */
export function toGenerationEvent(event: DomainEvent): GenerationEvent {
  const { userId: _owner, ...rest } = event;
  if (rest.type !== 'complete') return rest;
  const { images, ...data } = rest.data;
  return { ...rest, data: { ...data, imageUrls: images.map(imageUrl) } };
}
