import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { tracer } from './powertools';

let loading: Promise<KinesisClient> | undefined;

/**
 * A Kinesis client configured as `kinesisClient()` (./kinesis-client), created on first call: the Kinesis SDK is
 * loaded then, not at cold start, for handlers that only emit after the response. Only dynamic imports here, so a
 * bundle that includes this module does not load the SDK at init.
 */
export function loadKinesisClient(): Promise<KinesisClient> {
  loading ??= Promise.all([import('@aws-sdk/client-kinesis'), import('@smithy/node-http-handler')]).then(
    // HTTP/1.1: the data-plane calls we use need nothing more, and the local emulator cannot speak HTTP/2.
    ([sdk, http]) =>
      tracer.captureAWSv3Client(new sdk.KinesisClient({ requestHandler: new http.NodeHttpHandler() })),
  );
  return loading;
}
