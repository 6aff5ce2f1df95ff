import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid } from '../../../lambdas/moderation/pii';

describe('luhnValid', () => {
  it.each(['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117'])(
    'accepts the test card %s',
    (card) => {
      expect(luhnValid(card)).toBe(true);
    },
  );

  it.each(['4111111111111112', '5555555555554443', '1234567812345678'])(
    'rejects %s, whose check digit is wrong',
    (card) => {
      expect(luhnValid(card)).toBe(false);
    },
  );

  it('rejects anything that is not only digits', () => {
    expect(luhnValid('4111 1111 1111 1111')).toBe(false);
  });
});

describe('ibanValid', () => {
  it.each([
    'DE89370400440532013000',
    'GB82WEST12345698765432',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'DE89 3704 0044 0532 0130 00',
  ])('accepts the valid IBAN %s', (iban) => {
    expect(ibanValid(iban)).toBe(true);
  });

  it.each([
    'DE89370400440532013001',
    'GB82WEST12345698765433',
    'XX00123',
    'DE8937040044053201300012345678901234',
  ])('rejects %s', (iban) => {
    expect(ibanValid(iban)).toBe(false);
  });
});
