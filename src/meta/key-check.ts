import { BraidError } from '../model/errors.js';
import type { SecretBox } from './secret-box.js';
import type { SettingsRepository } from './settings-repository.js';

const KEY_CHECK_SETTING = 'secret_box.key_check';
const KEY_CHECK_PLAINTEXT = 'braid-secret-key-check';

/**
 * Makes a wrong secret key fail at start-up rather than at the first source someone opens. The
 * first start seals a known value into the settings; every later start must be able to open it.
 */
export async function verifySecretKey(settings: SettingsRepository, box: SecretBox): Promise<void> {
  await settings.setIfAbsent(KEY_CHECK_SETTING, box.seal(KEY_CHECK_PLAINTEXT));
  const stored = await settings.get(KEY_CHECK_SETTING);
  let opened: string | undefined;
  try {
    opened = stored === null ? undefined : box.open(stored);
  } catch (err) {
    throw mismatch(err);
  }
  if (opened !== KEY_CHECK_PLAINTEXT) throw mismatch();
}

function mismatch(cause?: unknown): BraidError {
  return new BraidError(
    500,
    'secret_key_mismatch',
    'the secret key (BRAID_SECRET_KEY, else secret.key in the data directory) is not the key this metadata ' +
      'store was encrypted with: restore the original key, or stored source passwords cannot be read',
    undefined,
    { cause },
  );
}
