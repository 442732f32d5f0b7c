import { ComfyVastError } from '../errors/index.js';
import { silentLogger, type Logger } from '../util/index.js';
import { buildOfferQuery, matchingOffers, type OfferRules, type ServerRequirements } from './offer-query.js';
import type { VastOffer } from './schemas.js';
import type { VastClient, VastCreateRequest } from './vast-client.js';
import { isOfferGone } from './vast-errors.js';

export interface RentOptions extends OfferRules {
  /** How many offers to try when the chosen one is taken before we rent it (default 3). */
  maxAttempts?: number;
  logger?: Logger;
}

export interface Rented {
  offer: VastOffer;
  instanceId: number;
}

/** Searches offers and keeps those that truly meet the request, cheapest first. */
export async function findOffers(client: VastClient, req: ServerRequirements, rules: OfferRules = {}): Promise<VastOffer[]> {
  return matchingOffers(await client.searchOffers(buildOfferQuery(req, rules)), req, rules);
}

/**
 * Rents the cheapest offer that meets the request. Offers are live, so one can be taken between search and
 * rent (`no_such_ask`, 409, 410): then the next is tried, up to `maxAttempts` in all.
 */
export async function rentCheapestOffer(client: VastClient, req: ServerRequirements, settings: VastCreateRequest, options: RentOptions = {}): Promise<Rented> {
  const logger = options.logger ?? silentLogger;
  const offers = await findOffers(client, req, options);
  if (offers.length === 0) {
    throw new ComfyVastError('INSUFFICIENT_RESOURCES', `No Vast.ai offer has ${describe(req)}`, { details: { requested: req } });
  }
  const tries = offers.slice(0, Math.max(1, options.maxAttempts ?? 3));
  for (const offer of tries) {
    try {
      return { offer, instanceId: await client.createInstance(offer.id, settings) };
    } catch (error) {
      if (!isOfferGone(error)) throw error;
      logger.info({ offerId: offer.id }, 'Offer taken before it could be rented; trying the next one');
    }
  }
  throw new ComfyVastError('INSUFFICIENT_RESOURCES', `The ${tries.length} cheapest Vast.ai offers with ${describe(req)} were taken before they could be rented`, {
    details: { requested: req, attempts: tries.length },
  });
}

function describe(req: ServerRequirements): string {
  const where = req.location ? ` in ${req.location}` : '';
  return `${req.gpuCount}× ${req.gpu}, ${req.cpuCores} CPU cores, ${req.ram} GB RAM and ${req.disk} GB disk${where}`;
}
