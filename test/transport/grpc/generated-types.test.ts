// The gRPC message types in src/transport/grpc/generated are produced from proto/ by
// `npm run gen:proto` and committed; this test regenerates them into a temporary folder and fails
// when the committed files are stale (someone changed the .proto without regenerating).
import { test } from 'node:test';
import { assertGeneratedTypesFresh } from '../../helpers/generated-types.js';

test('committed gRPC types match proto-loader-gen-types output for proto/', () => {
  assertGeneratedTypesFresh('gen:proto', 'src/transport/grpc/generated');
});
