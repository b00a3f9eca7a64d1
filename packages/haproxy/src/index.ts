/**
 * `@torsion/haproxy`: the PROXY protocol (v1 and v2).
 *
 * Tests: test/index.test.ts
 * @module
 */
export { crc32c } from './crc32c.js';
export { encodeProxyV1, encodeProxyV2 } from './encoder.js';
export type { ProxyV1Fields, ProxyV2Fields, ProxyV2SSLFields } from './encoder.js';
export { ProxyHeaderError, ProxyHeaderTimeoutError, UntrustedProxyError } from './errors.js';
export {
  PP2_CLIENT,
  PP2_SUBTYPE_SSL,
  PP2_TYPE,
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
} from './header.js';
export type {
  ProxiedAddress,
  ProxyHeader,
  ProxyHeaderV1,
  ProxyHeaderV2,
  ProxySSLInfo,
  ProxyTLV,
} from './header.js';
export { cidrContains, parseCIDR } from './ip.js';
export type { CIDR } from './ip.js';
export { parseProxyHeader, ProxyHeaderParser } from './parser.js';
export type { ProxyHeaderParserOptions, ProxyParseResult } from './parser.js';
export {
  DEFAULT_HEADER_TIMEOUT,
  DEFAULT_TRUSTED_PROXIES,
  HAProxyProtocol,
  HAProxyWrappingFactory,
} from './wrapping-factory.js';
export type { HAProxyWrappingOptions } from './wrapping-factory.js';
export { ProxyHeaderClientFactory } from './client.js';
export type { ProxyHeaderClientOptions } from './client.js';
export { HAPROXY_SERVER_TYPE, HAProxyServerEndpoint } from './endpoint.js';
export type { HAProxyEndpointDescription } from './endpoint.js';
