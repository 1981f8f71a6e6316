// The gRPC message types in src/transport/oip/generated are produced from proto/inference/ by
// `npm run gen:proto:oip` and committed; this test regenerates them into a temporary folder and fails
// when the committed files are stale (someone changed the .proto without regenerating).
import { test } from 'node:test';
import { assertGeneratedTypesFresh } from '../../helpers/generated-types.js';

test('committed OIP gRPC types match proto-loader-gen-types output for proto/inference/', () => {
  assertGeneratedTypesFresh('gen:proto:oip', 'src/transport/oip/generated');
});
