/**
 * vLLM's tool-call parsers (LMI `OPTION_TOOL_CALL_PARSER`, vLLM's `--tool-call-parser`) by model family, as vLLM's
 * tool-calling guide lists them: each reads the tool-call syntax its family's chat template teaches the model.
 * A model id that names its family gets its parser; any other gets `hermes`, the parser of the Qwen2.5 models
 * the README stages (set `toolCallParser` on the model when that is wrong).
 */
const PARSERS: readonly (readonly [RegExp, string])[] = [
  // Hermes fine-tunes of other families speak Hermes' syntax.
  [/hermes/i, 'hermes'],
  [/llama-?4/i, 'pythonic'],
  [/llama-?3/i, 'llama3_json'],
  [/mistral|mixtral|ministral/i, 'mistral'],
  [/granite-?20b-?functioncalling/i, 'granite-20b-fc'],
  [/granite/i, 'granite'],
  [/internlm/i, 'internlm'],
  [/jamba/i, 'jamba'],
  [/phi-?4-?mini/i, 'phi4_mini_json'],
  [/qwen|qwq/i, 'hermes'],
];

export const DEFAULT_TOOL_CALL_PARSER = 'hermes';

/** The parser for a model, from its id. */
export function toolCallParserFor(modelId: string): string {
  return PARSERS.find(([pattern]) => pattern.test(modelId))?.[1] ?? DEFAULT_TOOL_CALL_PARSER;
}
