export {
  createAddressPolicy,
  isPublicAddress,
  normalizeHost,
  parseAddress,
  type AddressPolicy,
  type AddressPolicyOptions,
} from './address-policy.js';
export { outboundFetch, OutboundError, type OutboundFailure, type OutboundOptions } from './outbound-fetch.js';
