export { VastClient, type VastClientOptions, type VastCreateRequest, type VastOfferQuery } from './vast-client.js';
export {
  vastInstanceSchema,
  vastOfferSchema,
  vastPortsSchema,
  vastUserSchema,
  instanceEnv,
  type VastInstance,
  type VastOffer,
  type VastPorts,
  type VastSshKey,
  type VastUser,
} from './schemas.js';
export { VAST_MIN_INTERVALS_MS, type VastEndpoint } from './spacing.js';
export { type BackoffOptions } from './backoff.js';
export { isOfferGone } from './vast-errors.js';
export { REGIONS, resolveLocation, inRegion, type Region } from './regions.js';
export {
  serverRequirementsSchema,
  buildOfferQuery,
  offerMismatch,
  matchingOffers,
  vastGpuName,
  DEFAULT_RELIABILITY_FLOOR,
  type ServerRequirements,
  type ServerRequirementsInput,
  type OfferRules,
} from './offer-query.js';
export { findOffers, rentCheapestOffer, type RentOptions, type Rented } from './offer-selection.js';
export {
  buildLaunchSettings,
  generateWebPassword,
  serverLabel,
  parseServerLabel,
  COMFY_PORT,
  SSH_PORT,
  PORTAL_PORT,
  DIRECT_PORTS_NEEDED,
  DEFAULT_IMAGE,
  type LaunchOptions,
  type LaunchInput,
} from './launch-settings.js';
export { InstallationKeys, INSTALLATION_KEY_VALUE, sharedInstallationKey, type InstallationKeyPair, type SharedInstallationKeyOptions, type StoredKeyPair } from './installation-keys.js';
