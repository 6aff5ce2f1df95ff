import * as z from 'zod';

/**
 * The models a deployment serves, as the CDK hands them to the functions (`MODELS`, JSON) and the local stack
 * sets them: each model's id, its context and where it runs. One definition for lib/, lambdas/ and scripts/.
 */

/**
 * A model id: what clients send as `model` and see in `/v1/models`. No `/` (it is a path segment of
 * `/v1/models/{id}`) and no `#` (it is part of the usage aggregate's sort key); 64 characters at most (the
 * analytics event's limit).
 */
export const ModelIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
    'Expected a model id of letters, digits and . _ : - (at most 64, no "/")',
  );

/** One served model and the SageMaker targets that run it. */
export const ServedModelSchema = z
  .object({
    id: ModelIdSchema,
    /** Tokens of one engine slot's context (prompt and answer share it). */
    contextTokens: z.number().int().positive(),
    /** ASCII characters per token of its tokenizer, for estimates. @default the deployment's `MODEL_CHARS_PER_TOKEN` */
    charsPerToken: z.number().positive().optional(),
    /** This region's endpoint by name first, then other regions' by ARN (as `INFERENCE_ENDPOINTS`). */
    endpoints: z.array(z.string().min(1)).min(1),
    /** Inference component per endpoint, position by position ('' where the endpoint serves the model directly). */
    components: z.array(z.string()).default([]),
  })
  .strict();
export type ServedModel = z.output<typeof ServedModelSchema>;

/** The `MODELS` variable: a JSON list, the first model the default, ids unique. */
export const ServedModelsSchema = z
  .array(ServedModelSchema)
  .min(1)
  .refine((models) => new Set(models.map((model) => model.id)).size === models.length, {
    message: 'model ids must be unique',
  });
