"""The one test harness: how tests reach a service and walk its pages.

- `forms`: hidden fields, CSRF tokens, forms and redirect parameters read from pages.
- `browser.Browser`: a cookie-keeping user agent that never follows redirects on its own;
  the same class over the network (`Browser(url)`) or in-process (`transport=`).
- `servers.InProcessApp`: any service's app with its lifespan running, reached through
  `httpx` without a socket (STYLE rule 20); `servers.LiveServer`: a real uvicorn process.
- `authorization_server`: the authorization server under test behind one handle, in-process
  (fixture `as_server`) or live (fixture `live_as`): `.url`, `.settings`, `.context` for
  factories, `.get/.post/...` for single requests and `.browser()` for a user.

Prefer in-process; start a real process only where the process is the point (sockets,
start-up refusal, replicas, third-party client libraries, the browser walks in `e2e/`).
"""
