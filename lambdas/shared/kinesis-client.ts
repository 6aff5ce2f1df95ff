import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { tracer } from './powertools';

/** The Kinesis client, created once per process (cold start). */
let kinesis: KinesisClient | undefined;

export function kinesisClient(): KinesisClient {
  // HTTP/1.1: the data-plane calls we use need nothing more, and the local emulator cannot speak HTTP/2.
  kinesis ??= tracer.captureAWSv3Client(new KinesisClient({ requestHandler: new NodeHttpHandler() }));
  return kinesis;
}
