/**
 * `npm start`: the whole of chatstack on one machine — emulators, OAuth issuer, inference server, API, workers and
 * web app — as one process tree with prefixed logs. Ctrl-C stops everything.
 */
import { loadLocalConfig } from './local/config';
import { DEV_MACHINE_CLIENTS } from './local/identity';
import { type ComponentName, PortInUseError, startLocalStack } from './local/stack';

const COLORS: Record<ComponentName, number> = {
  emulators: 36,
  issuer: 35,
  inference: 33,
  'inference-2': 93,
  sagemaker: 34,
  s3: 92,
  api: 32,
  workers: 94,
  web: 96,
};
const useColor = process.stdout.isTTY;
const prefix = (component: ComponentName) => {
  const label = component.padEnd(9);
  return useColor ? `\x1b[${COLORS[component]}m${label}│\x1b[0m ` : `${label}│ `;
};

async function main(): Promise<void> {
  const config = loadLocalConfig();
  console.log(`Starting chatstack locally (data in ${config.dataDir}) …`);
  const stack = await startLocalStack(config, {
    onLog: (component, line) => console.log(`${prefix(component)}${line}`),
  });

  const { urls } = stack;
  const a = DEV_MACHINE_CLIENTS.a;
  console.log(
    [
      '',
      '  chatstack is running',
      '',
      `  Web app            ${stack.description.webEnabled ? urls.web : '(not built)'}`,
      `  API (OpenAI base)  ${urls.api}/v1`,
      `  Health             ${urls.api}/health`,
      `  OAuth issuer       ${urls.issuer}   (discovery: /.well-known/openid-configuration)`,
      `  Inference server   ${urls.inference}   model: ${stack.description.modelName}`,
      ...(urls.inference2 === undefined
        ? []
        : [`  Second model       ${urls.inference2}   model: ${config.MODEL_2_ID}`]),
      `  SageMaker runtime  ${urls.sagemaker}`,
      `  DynamoDB ${urls.dynamodb} · SQS ${urls.sqs} · Kinesis ${urls.kinesis} · S3 ${urls.s3}`,
      '',
      `  Machine clients: ${a.clientId} / ${a.clientSecret} and ${DEV_MACHINE_CLIENTS.b.clientId} / ${DEV_MACHINE_CLIENTS.b.clientSecret}`,
      `  Admin: ${DEV_MACHINE_CLIENTS.admin.clientId} / ${DEV_MACHINE_CLIENTS.admin.clientSecret}, or the dev login "admin" (the admin API, /v1/admin/…)`,
      `  Try:  TOKEN=$(curl -s -u ${a.clientId}:${a.clientSecret} -d grant_type=client_credentials -d 'scope=chat:read chat:write' ${urls.issuer}/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
      `        curl -N ${urls.api}/v1/chat/completions -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"model":"chatstack-local","stream":true,"messages":[{"role":"user","content":"Hello"}]}'`,
      '',
      '  Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping chatstack …');
    await stack.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const crash = await stack.crashed;
  console.error(`The ${crash.component} component exited unexpectedly (code ${crash.code}); stopping.`);
  await shutdown(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof PortInUseError ? error.message : error);
  process.exit(1);
});
