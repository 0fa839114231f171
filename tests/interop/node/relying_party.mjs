// A relying party built on panva's openid-client, driven by tests/interop/test_openid_client.py.
//
// 1. Discovery from the issuer identifier and dynamic registration (RFC 7591, with the
//    initial access token in RP_INITIAL_ACCESS_TOKEN), as a relying party registers itself:
//    scope `openid profile email` beside the API's scopes. Prints {"step": "authorize", "url":
//    ...}: the authorization URL with code + PKCE (S256) + nonce + state.
// 2. Reads the callback URL (where the provider sent the browser) from stdin, then lets the
//    library exchange the code, validate the ID Token (signature, iss, aud, exp, nonce,
//    at_hash), call UserInfo and build the end-session URL; prints {"step": "done", ...}.
// Any failure prints {"step": "error", ...} and exits 1. Only the library speaks OIDC here.
import * as readline from 'node:readline/promises';
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const print = (value) => process.stdout.write(JSON.stringify(value) + '\n');

async function main() {
  const redirectUri = env('RP_REDIRECT_URI');
  const metadata = {
    client_name: 'openid-client relying party',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [env('RP_POST_LOGOUT_REDIRECT_URI')],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: env('RP_REGISTER_SCOPE'),
    id_token_signed_response_alg: process.env.RP_ID_TOKEN_ALG || 'RS256',
  };
  const config = await client.dynamicClientRegistration(
    new URL(env('RP_ISSUER')),
    metadata,
    client.ClientSecretBasic(),
    {
      execute: [client.allowInsecureRequests], // the test server is plain http on loopback
      initialAccessToken: env('RP_INITIAL_ACCESS_TOKEN'),
    },
  );
  const registered = config.clientMetadata();
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  print({
    step: 'authorize',
    url: url.href,
    server: config.serverMetadata(),
    registered: { client_id: registered.client_id, scope: registered.scope },
  });

  const lines = readline.createInterface({ input: process.stdin });
  const callback = (await lines[Symbol.asyncIterator]().next()).value;
  lines.close();
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: env('RP_POST_LOGOUT_REDIRECT_URI'),
    state: logoutState,
  });
  const [header] = tokens.id_token.split('.');
  print({
    step: 'done',
    nonce,
    token_type: tokens.token_type,
    scope: tokens.scope,
    id_token_header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims,
    userinfo,
    end_session_url: endSession.href,
    logout_state: logoutState,
  });
}

main().catch((error) => {
  print({
    step: 'error',
    name: error.name,
    code: error.code,
    message: error.message,
    error: error.error,
    error_description: error.error_description,
  });
  process.exit(1);
});
