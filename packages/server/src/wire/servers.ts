import type { BudgetStatus, OfferSummary as DomainOffer, SchedulerHistoryRecord, Server, ServerStatus, ServerTransition, ServerView } from '@comfy-vast/core';
import type { BudgetEvent, Contract, EndpointOutput, SchedulerActionEvent, ServerStatusEvent } from '../contract/index.js';

type WireServer = EndpointOutput<Contract['getServer']>;
type WireOffer = EndpointOutput<Contract['listOffers']>[number];
type WireAction = EndpointOutput<Contract['startServer']>;

/**
 * The library's server as the API answers it: the instance id as text, prices as the spec writes them ("0.50", the
 * disk's to the hundredth of a cent) and the cost rounded to the hundredth of a cent.
 */
export function toWireServer(server: ServerView): WireServer {
  return {
    id: server.id,
    vastId: server.vastId === null ? null : String(server.vastId),
    name: server.name,
    gpu: server.gpu,
    status: server.status,
    isLaunched: server.isLaunched,
    pricePerHour: server.pricePerHour.toFixed(2),
    createdAt: server.createdAt,
    provider: server.provider,
    storagePricePerHour: server.storagePerHour.toFixed(4),
    gpuCount: server.gpuCount,
    location: server.location,
    statusReason: server.statusReason,
    costSoFar: Math.round(server.costSoFar * 10_000) / 10_000,
    comfyUrl: server.comfyUrl,
    ssh: server.ssh,
    updatedAt: server.updatedAt,
    idleStopAt: server.idleStopAt,
  };
}

/** A start or stop in the spec's words: "Server start initiated", or where the server already was. */
export function toWireTransition(action: 'start' | 'stop', { status, initiated }: ServerTransition): WireAction {
  return { success: true, message: initiated ? `Server ${action} initiated` : `Server is already ${status}`, status };
}

export const DELETION_INITIATED: EndpointOutput<Contract['deleteServer']> = { success: true, message: 'Server deletion initiated' };

/** An offer as the API answers it: its price as the spec writes prices. */
export function toWireOffer(offer: DomainOffer): WireOffer {
  return { ...offer, pricePerHour: offer.pricePerHour.toFixed(2) };
}

/** A server's status as its subscribers get it; `previous` only when it is a change. */
export function toServerStatusEvent(server: Server, previous?: ServerStatus): ServerStatusEvent {
  const data = { status: server.status, isLaunched: server.isLaunched, statusReason: server.statusReason };
  return { type: 'server:status', serverId: server.id, data: previous === undefined ? data : { ...data, previous } };
}

export function toSchedulerActionEvent(record: SchedulerHistoryRecord): SchedulerActionEvent {
  return { type: 'scheduler:action', serverId: record.serverId, data: record };
}

export function toBudgetEvent(type: BudgetEvent['type'], status: BudgetStatus): BudgetEvent {
  return { type, data: status };
}
