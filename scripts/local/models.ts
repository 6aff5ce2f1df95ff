/**
 * The models the local stack serves: the first (generated, or MODEL_PATH) on the inference server at
 * INFERENCE_PORT, and optionally a second (MODEL_2_PATH) on its own server at INFERENCE_2_PORT. Each is a
 * SageMaker endpoint of the local runtime; the handlers learn them from `MODELS`, as in the cloud.
 */
import type { ServedModel } from '../../lambdas/contracts/models';
import type { LocalConfig } from './config';

/** The SageMaker endpoint name the local SageMaker runtime maps to the (first) inference server. */
export const LOCAL_ENDPOINT_NAME = 'local-llm';
/** The inference component serving the first model when the local stack emulates scale to zero. */
export const LOCAL_COMPONENT_NAME = 'local-llm-model';
/** The first model's id. */
export const LOCAL_MODEL_ID = 'chatstack-local';
/** The endpoint of the second model's inference server. */
export const SECOND_ENDPOINT_NAME = 'local-llm-2';
/** `MODEL_2_PATH` value that asks for the second generated model. */
export const GENERATED = 'generated';
/** Slots of the second model's server: it is there to be chosen, not to carry load. */
export const SECOND_MODEL_SEQUENCES = 2;

/** Whether the stack runs a second model. */
export function hasSecondModel(config: LocalConfig): boolean {
  return config.MODEL_2_PATH !== undefined;
}

/** The served models as the handlers read them (`MODELS`): ids, contexts and endpoints, the first the default. */
export function localModels(config: LocalConfig): ServedModel[] {
  // The generated models have a byte-level vocabulary: one token per byte.
  const first: ServedModel = {
    id: LOCAL_MODEL_ID,
    contextTokens: config.INFERENCE_CONTEXT_SIZE,
    charsPerToken: 1,
    endpoints: [LOCAL_ENDPOINT_NAME],
    components: config.INFERENCE_COLD_START_MS === undefined ? [] : [LOCAL_COMPONENT_NAME],
  };
  if (!hasSecondModel(config)) return [first];
  return [
    first,
    {
      id: config.MODEL_2_ID,
      contextTokens: config.INFERENCE_2_CONTEXT_SIZE,
      ...(config.MODEL_2_PATH === GENERATED ? { charsPerToken: 1 } : {}),
      endpoints: [SECOND_ENDPOINT_NAME],
      components: [],
    },
  ];
}
