// An OpenID provider stand-in for the jose cross-check: makes an RS256 key pair with
// jose (an implementation independent of plexusd's), writes its public half as a JWKS
// file, and prints tokens for the given claims as one JSON object on stdout:
//   token            RS256, signed by the key in the JWKS (must be accepted)
//   foreign_token    RS256, same kid, signed by a second key that is NOT in the JWKS
//   confusion_token  HS256 with the public key's PEM bytes as the HMAC secret
//                    (the algorithm-confusion attack; must be rejected)
//
//   node oidc_setup.mjs --dir DIR --issuer ISS --audience AUD [--kid KID] --claims JSON
//
// Writes DIR/jwks.json. Tokens expire after 10 minutes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';

function fail(message) {
  process.stderr.write(`oidc_setup: ${message}\n`);
  process.exit(2);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      dir: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      kid: { type: 'string', default: 'plexus-test-key-1' },
      claims: { type: 'string', default: '{}' },
    },
  }));
} catch (error) {
  fail(error.message);
}
for (const required of ['dir', 'issuer', 'audience']) {
  if (!options[required]) fail(`--${required} is required`);
}
let claims;
try {
  claims = JSON.parse(options.claims);
} catch (error) {
  fail(`--claims is not JSON: ${error.message}`);
}

const signed = (key, alg) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg, kid: options.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(String(claims.sub ?? claims.preferred_username ?? 'oidc-user'))
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);

const trusted = await generateKeyPair('RS256', { extractable: true });
const foreign = await generateKeyPair('RS256', { extractable: true });

const jwk = { ...(await exportJWK(trusted.publicKey)), kid: options.kid, alg: 'RS256', use: 'sig' };
const jwksFile = join(options.dir, 'jwks.json');
writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }, null, 2) + '\n');

const publicPem = await exportSPKI(trusted.publicKey);
const result = {
  jwks_file: jwksFile,
  kid: options.kid,
  token: await signed(trusted.privateKey, 'RS256'),
  foreign_token: await signed(foreign.privateKey, 'RS256'),
  confusion_token: await signed(new TextEncoder().encode(publicPem), 'HS256'),
};
process.stdout.write(JSON.stringify(result) + '\n');
