/** Category names used in verdicts, metrics (`Category` dimension) and audit records. */
export const ModerationCategory = {
  blocklist: 'blocklist',
  promptInjection: 'prompt_injection',
  piiEmail: 'pii_email',
  piiPhone: 'pii_phone',
  piiCard: 'pii_card',
  piiIban: 'pii_iban',
  awsAccessKey: 'secret_aws_access_key',
  awsSecretKey: 'secret_aws_secret_key',
  /** The classifier failed and the direction fails closed. */
  classifierUnavailable: 'classifier_unavailable',
} as const;
