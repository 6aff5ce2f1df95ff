/**
 * `GET /health` of the local stack: every component's status and URL, so tools find the issuer, the inference server
 * and the web app from one place.
 */
import type { StackDescription } from './stack';

export type ComponentStatus = 'ok' | 'down' | 'absent';
export interface HealthReport {
  status: 'ok' | 'degraded';
  components: Record<string, { status: ComponentStatus; url?: string }>;
}

async function probe(url: string, init: RequestInit = {}, accept = (status: number) => status < 500) {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(1500) });
    await res.arrayBuffer();
    return accept(res.status) ? 'ok' : 'down';
  } catch {
    return 'down';
  }
}

/** An AWS JSON-protocol call that needs no resources, e.g. `DynamoDB_20120810.ListTables`. */
function awsJson(target: string, version = '1.0'): RequestInit {
  return {
    method: 'POST',
    headers: {
      'content-type': `application/x-amz-json-${version}`,
      'x-amz-target': target,
      'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
      authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/service/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: '{}',
  };
}

export async function checkHealth(stack: StackDescription, apiUrl: string): Promise<HealthReport> {
  const { urls } = stack;
  const [issuer, dynamodb, sqs, kinesis, s3, inference, inference2, web] = await Promise.all([
    probe(`${urls.issuer}/.well-known/openid-configuration`, {}, (s) => s === 200),
    probe(urls.dynamodb, awsJson('DynamoDB_20120810.ListTables'), (s) => s === 200),
    probe(urls.sqs, awsJson('AmazonSQS.ListQueues'), (s) => s === 200),
    probe(urls.kinesis, awsJson('Kinesis_20131202.ListStreams', '1.1'), (s) => s === 200),
    // ListBuckets; s3rver answers any well-formed request.
    probe(urls.s3, {}, (s) => s === 200),
    probe(`${urls.inference}/ping`, {}, (s) => s === 200),
    urls.inference2 === undefined
      ? Promise.resolve('absent' as const)
      : probe(`${urls.inference2}/ping`, {}, (s) => s === 200),
    stack.webEnabled ? probe(urls.web, {}, (s) => s === 200) : Promise.resolve('absent' as const),
  ]);
  const components: HealthReport['components'] = {
    api: { status: 'ok', url: apiUrl },
    issuer: { status: issuer, url: urls.issuer },
    dynamodb: { status: dynamodb, url: urls.dynamodb },
    sqs: { status: sqs, url: urls.sqs },
    kinesis: { status: kinesis, url: urls.kinesis },
    s3: { status: s3, url: urls.s3 },
    inference: { status: inference, url: urls.inference },
    ...(inference2 === 'absent' ? {} : { 'inference-2': { status: inference2, url: urls.inference2 } }),
    web: web === 'absent' ? { status: 'absent' } : { status: web, url: urls.web },
  };
  const degraded = Object.values(components).some((component) => component.status === 'down');
  return { status: degraded ? 'degraded' : 'ok', components };
}
