// Verifies an HS256 JWT with jose, independently of plexusd's own code. Reads one JSON
// object from stdin (so neither token nor secret shows in a process listing):
//   {"token": "...", "secret": "...", "issuer": "...", "audience": "..."}
// The secret's UTF-8 bytes are the HMAC key. Prints the payload as JSON and exits 0;
// on any failure prints jose's error code (never the token) to stderr and exits 1.
import { jwtVerify } from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;

let request;
try {
  request = JSON.parse(input);
} catch (error) {
  process.stderr.write(`verify_hs256: stdin is not JSON: ${error.message}\n`);
  process.exit(2);
}
for (const field of ['token', 'secret', 'issuer', 'audience']) {
  if (typeof request[field] !== 'string' || request[field] === '') {
    process.stderr.write(`verify_hs256: "${field}" is required\n`);
    process.exit(2);
  }
}

try {
  const { payload, protectedHeader } = await jwtVerify(request.token, new TextEncoder().encode(request.secret), {
    algorithms: ['HS256'],
    issuer: request.issuer,
    audience: request.audience,
  });
  if (protectedHeader.alg !== 'HS256') throw Object.assign(new Error('unexpected alg'), { code: 'ERR_ALG' });
  process.stdout.write(JSON.stringify(payload) + '\n');
} catch (error) {
  process.stderr.write(`verify_hs256: rejected: ${error.code ?? 'error'}: ${error.message}\n`);
  process.exit(1);
}
