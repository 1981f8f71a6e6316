/**
 * Content negotiation of image answers: which of the forms an answer can take (an image MIME type,
 * JSON) the client's Accept header prefers. Uses `negotiator` (the jshttp module behind Express's
 * req.accepts): q-values and wildcards (`image/*`, `*\/*`) as RFC 9110 12.5.1 defines them.
 */
import Negotiator from 'negotiator';
import { BigGanError } from '../../errors.js';

/** The best of `available` (in the server's order of preference) for `accept`; 406 when none fits. */
export function chooseForm(accept: string | undefined, available: readonly string[]): string {
  if (accept === undefined || accept.trim() === '') return available[0];
  const chosen = new Negotiator({ headers: { accept } }).mediaType([...available]);
  if (chosen === undefined) {
    throw new BigGanError(
      'NOT_ACCEPTABLE',
      `no form of this answer matches Accept: ${accept.slice(0, 100)}; available: ${available.join(', ')}`,
    );
  }
  return chosen;
}
