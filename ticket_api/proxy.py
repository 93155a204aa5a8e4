"""Client addresses behind nginx, without letting anyone else forge them.

With `TRUST_PROXY=N`, Werkzeug's ProxyFix takes the client address, scheme and host from
the last N `X-Forwarded-*` hops, but only for requests whose peer is a trusted proxy
(`FORWARDED_ALLOW_IPS`, gunicorn's own setting, default loopback). A client that reaches
gunicorn directly and sends its own `X-Forwarded-For` is keyed on its real address.
"""

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxyFix:
    def __init__(self, app, hops, trusted_peers):
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        self.trusted_peers = set(trusted_peers)

    def __call__(self, environ, start_response):
        from_proxy = environ.get("REMOTE_ADDR") in self.trusted_peers
        return (self.fixed if from_proxy else self.app)(environ, start_response)
